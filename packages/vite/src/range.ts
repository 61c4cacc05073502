/** What to send for a `Range` request header against a file of `size` bytes (RFC 9110 §14). */
export type RangeAnswer =
  | { kind: 'full' }
  /** Inclusive byte offsets. */
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' }

const SPEC_RE = /^(\d*)-(\d*)$/

/**
 * A server may ignore a Range header it does not understand and send the whole file, so anything
 * malformed, in another unit, or asking for several ranges (multipart bodies are not worth it for
 * video, and browsers never ask for them) is answered with the full body. Only a well-formed single
 * range that lies wholly past the end is unsatisfiable.
 */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (!header) return { kind: 'full' }
  const eq = header.indexOf('=')
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'full' }
  const specs = header.slice(eq + 1).split(',')
  if (specs.length !== 1) return { kind: 'full' }
  const m = SPEC_RE.exec((specs[0] ?? '').trim())
  if (!m) return { kind: 'full' }
  const [, first = '', last = ''] = m
  if (first === '' && last === '') return { kind: 'full' }

  if (first === '') {
    // Suffix range: the last N bytes.
    const n = Number(last)
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(first)
  const end = last === '' ? size - 1 : Number(last)
  if (last !== '' && end < start) return { kind: 'full' }
  if (!Number.isSafeInteger(start) || start >= size) return { kind: 'unsatisfiable' }
  return { kind: 'partial', start, end: Math.min(end, size - 1) }
}
