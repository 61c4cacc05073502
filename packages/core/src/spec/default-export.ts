import { showValue } from '../errors.js'
import { exportKind } from './export-kind.js'

function describeExport(kind: string, value: unknown): string {
  if (kind === 'null') return 'null'
  if (kind === 'array') return 'an array'
  if (kind === 'function') return 'a function'
  return `a ${kind} (${showValue(value)})`
}

/**
 * Why a spec's or a config's default export is not the plain object it must be, or undefined when it
 * is. One wording for both: "has no default export" or "its default export is <what>, not <wanted>",
 * then what to write (`hint`).
 */
export function defaultExportProblem(found: { hasDefault: boolean; value?: unknown; kind?: string | undefined }, wanted: string, hint: string): string | undefined {
  const kind = found.kind ?? exportKind(found.value)
  if (!found.hasDefault || kind === 'undefined') return `has no default export; ${hint}`
  if (kind !== 'object') return `its default export is ${describeExport(kind, found.value)}, not ${wanted}; ${hint}`
  return undefined
}
