/**
 * Canonical JSON: object keys sorted, `undefined` members dropped, numbers in JSON's shortest form.
 * Two specs that mean the same request must serialize to the same bytes, whatever their key order or
 * formatting, or the cache would pay again for identical work.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '')
}

function write(value: unknown, path: string): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${path || 'value'} is ${value}, not a finite number`)
      // -0 and 0 are the same request.
      return JSON.stringify(value === 0 ? 0 : value)
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((v, i) => (v === undefined ? 'null' : write(v, `${path}[${i}]`))).join(',')}]`
      }
      const obj = value as Record<string, unknown>
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort()
      return `{${keys.map((k) => `${JSON.stringify(k)}:${write(obj[k], path ? `${path}.${k}` : k)}`).join(',')}}`
    }
    default:
      throw new TypeError(`canonicalJson: ${path || 'value'} has unsupported type ${typeof value}`)
  }
}
