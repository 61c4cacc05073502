import { VidspecError } from '@vidspec/core'
import { commonOptions, parseFlags, type Options, type Parsed } from './options.js'

export { commonOptions, type Options }

/**
 * Parses a command's flags strictly: an unknown flag is a usage error (exit 2), not a silent no-op.
 * The message is ours, not the parser's, and suggests the flag that was probably meant. The CLI
 * boundary adds the `vidspec <command>:` prefix, so no message here carries it.
 */
export function parse<T extends Options>(command: string, argv: string[], options: T): Parsed<T> {
  try {
    return parseFlags(argv, options)
  } catch (err) {
    const problem = usageProblem(err, options)
    throw new VidspecError('USAGE', `${problem}${problem.endsWith('?') ? '' : '.'} Run "vidspec ${command} --help" for its options.`)
  }
}

function usageProblem(err: unknown, options: Options): string {
  const message = err instanceof Error ? err.message : String(err)
  const code = (err as { code?: string }).code
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? ''
  const flags = Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.type === 'boolean' ? [`--no-${name}`] : [])])
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const given = quoted.split('=')[0] ?? quoted
    const hint = didYouMean(given, flags)
    return `unknown option ${given}${hint ? `; did you mean ${hint}?` : ''}`
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const hint = didYouMean(`--${quoted}`, flags)
    return `unexpected argument ${JSON.stringify(quoted)}: this command takes only options${hint ? ` (did you mean ${hint}?)` : ''}`
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = quoted.split(' ')[0] ?? quoted
    return /does not take/.test(message) ? `${flag} is a switch and takes no value` : `${flag} needs a value`
  }
  return message
}

/** The closest candidate within a small edit distance (or one that starts with what was typed). */
export function didYouMean(given: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined
  for (const name of candidates) {
    const d = name.startsWith(given) && given.length >= 3 ? 1 : editDistance(given, name)
    if (!best || d < best.d) best = { name, d }
  }
  const allowed = given.length <= 4 ? 1 : given.length < 9 ? 2 : 3
  return best && best.d <= allowed ? best.name : undefined
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length] ?? 0
}

export function intFlag(command: string, name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) {
    throw new VidspecError('USAGE', `--${name} must be an integer >= ${min} (got ${JSON.stringify(value)})`)
  }
  return n
}

export function providerFlag(command: string, value: string | undefined): 'together' | 'offline' | undefined {
  if (value === undefined) return undefined
  if (value !== 'together' && value !== 'offline') {
    throw new VidspecError('USAGE', `--provider must be "together" or "offline" (got ${JSON.stringify(value)})`)
  }
  return value
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 }

/** `500M`, `2GB`, `1048576`. */
export function sizeFlag(command: string, name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim())
  const unit = m ? SIZE_UNITS[(m[2] ?? '').toLowerCase()] : undefined
  if (!m || unit === undefined) {
    throw new VidspecError('USAGE', `--${name} must be a size like 500M or 2G (got ${JSON.stringify(value)})`)
  }
  return Math.round(Number(m[1]) * unit)
}

/** A non-negative amount of dollars, e.g. `--max-cost 5` or `--max-cost 0.50`. */
export function moneyFlag(command: string, name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value.replace(/^\$/, ''))
  if (!/^\$?\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(n)) {
    throw new VidspecError('USAGE', `--${name} must be an amount of dollars like 5 or 0.50 (got ${JSON.stringify(value)})`)
  }
  return n
}

/** `--shard i/n`: this job's part of the specs, 1 ≤ i ≤ n. */
export function shardFlag(command: string, value: string | undefined): { index: number; count: number } | undefined {
  if (value === undefined) return undefined
  const m = /^(\d+)\/(\d+)$/.exec(value.trim())
  const index = Number(m?.[1])
  const count = Number(m?.[2])
  if (!m || count < 1 || index < 1 || index > count) {
    throw new VidspecError('USAGE', `--shard must be i/n with 1 <= i <= n, e.g. 2/3 (got ${JSON.stringify(value)})`)
  }
  return { index, count }
}
