import { VidspecError, formatIssues, showValue } from '../errors.js'
import type { SpecIssue } from '../errors.js'
import { SPEC_FIELDS } from './schema.js'
import type { ParsedSpec } from './schema.js'

/** The issues (refusals) and warnings of one spec, each naming the file and the field. */
export class Report {
  readonly issues: SpecIssue[] = []
  readonly warnings: string[] = []
  constructor(private readonly file: string) {}

  add(path: string, value: unknown, message: string): void {
    if (this.issues.some((i) => i.path === path)) return
    this.issues.push({ path, value: showValue(value), message })
  }

  warn(path: string, text: string): void {
    this.warnings.push(`${this.file}: ${path}: ${text}`)
  }

  error(): VidspecError {
    // Spec order, not discovery order: the message reads top to bottom like the spec does.
    const rank = (path: string): number => {
      const top = SPEC_FIELDS.indexOf(path.split(/[.[]/)[0] as keyof ParsedSpec)
      return top === -1 ? SPEC_FIELDS.length : top
    }
    const issues = [...this.issues].sort((a, b) => rank(a.path) - rank(b.path))
    return new VidspecError('SPEC_INVALID', formatIssues(this.file, issues), { file: this.file, issues })
  }
}

/** The option closest to `word` (case-insensitive edit distance), when close enough to be a typo. */
export function closest(word: string, options: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const option of options) {
    const distance = editDistance(word.toLowerCase(), option.toLowerCase())
    if (distance < bestDistance) {
      best = option
      bestDistance = distance
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 5)) ? best : undefined
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
    }
    previous = current
  }
  return previous[b.length] ?? 0
}
