/**
 * A benchmark's command line: numbers and lists given bare (`1000`, `100,1000`), options with a value
 * (`--rounds 3`), switches (`--cold`). An option's value is never taken for a bare argument, so
 * `--rounds 9 50` and `50 --rounds 9` both mean 50 of something, 9 rounds.
 */
export interface BenchArgs {
  /** Bare arguments, in order. */
  positional: string[]
  /** An option's value as a number, or `fallback` when it is not given. */
  number(name: string, fallback: number): number
  has(name: string): boolean
}

/** Options that take a value; anything else starting with `--` is a switch. */
const VALUED = new Set(['--rounds', '--cold-rounds', '--lockfile'])

export function benchArgs(argv: string[] = process.argv.slice(2)): BenchArgs {
  const positional: string[] = []
  const values = new Map<string, string>()
  const switches = new Set<string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (VALUED.has(arg)) {
      const value = argv[++i]
      if (value === undefined || !/^\d+$/.test(value)) throw new Error(`${arg} needs a whole number, got ${value === undefined ? 'nothing' : `"${value}"`}`)
      values.set(arg, value)
    } else if (arg.startsWith('--')) switches.add(arg)
    else positional.push(arg)
  }
  return {
    positional,
    number: (name, fallback) => (values.has(name) ? Number(values.get(name)) : fallback),
    has: (name) => switches.has(name),
  }
}
