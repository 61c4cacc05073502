// No imports: the evaluator's worker uses it and stays free of everything but Node's own.

/** What a module's default export is, as the messages name it: `null`, `array`, or its typeof. */
export function exportKind(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}
