import { describe, expect, it } from 'vitest'
import { benchArgs } from './args.js'

describe('benchArgs', () => {
  it('never takes an option value for a bare argument, on either side of it', () => {
    for (const argv of [['--rounds', '9', '50'], ['50', '--rounds', '9']]) {
      const args = benchArgs(argv)
      expect(args.positional).toEqual(['50'])
      expect(args.number('--rounds', 5)).toBe(9)
    }
    const args = benchArgs(['/tmp/H', '200', '100', '--lockfile', '1000', '--rounds', '4'])
    expect(args.positional).toEqual(['/tmp/H', '200', '100'])
    expect(args.number('--lockfile', 0)).toBe(1000)
  })

  it('gives the fallback for an option not given, and tells switches apart', () => {
    const args = benchArgs(['/tmp/C', '100,1000', '--cold', '--cold-rounds', '2'])
    expect(args.positional).toEqual(['/tmp/C', '100,1000'])
    expect(args.number('--rounds', 7)).toBe(7)
    expect(args.number('--cold-rounds', 7)).toBe(2)
    expect(args.has('--cold')).toBe(true)
    expect(args.has('--warm')).toBe(false)
  })

  it('rejects an option without a whole number after it', () => {
    expect(() => benchArgs(['--rounds'])).toThrow('--rounds needs a whole number, got nothing')
    expect(() => benchArgs(['--rounds', 'many'])).toThrow('--rounds needs a whole number, got "many"')
  })
})
