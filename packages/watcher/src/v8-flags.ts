import { setFlagsFromString } from 'node:v8'

/** V8's major version (11 on Node 20, 12 on 22, 13 on 24): what each setting was measured on. */
const v8Major = (version: string): number => Number(version.split('.')[0])

/**
 * Keeps V8's young generation at its first size, in the `vidspec` process only (a process that
 * merely loads vidspec, such as Vite's, keeps its own settings).
 *
 * Why: a build waits on the network with many requests in flight, so much of what it allocates
 * lives for a while and survives young collections, which grows the young generation to its
 * maximum. V8 then starts a full collection whenever the old generation's headroom is smaller than
 * the young one: ~30 of them in a build of 200 short jobs, each marking the whole heap on helper
 * threads. Kept at its first size, the young generation is collected more often (cheaply) and the
 * old one about once. Measured: client CPU per job -16 %, a no-op plan of 1,000 specs -8 %, peak
 * memory lower, a cold plan of 10,000 specs unchanged (benchmarks/README.md, eleventh session).
 *
 * V8 reads this flag whenever it would grow the young generation, so setting it at start is enough.
 * Only on the V8 versions it was measured on (Node 20, 22, 24): an unknown flag would print an
 * error on every run.
 */
export function keepYoungGenerationSmall(v8Version: string = process.versions.v8, setFlags: (flags: string) => void = setFlagsFromString): boolean {
  const major = v8Major(v8Version)
  if (!(major >= 11 && major <= 13)) return false
  setFlags('--semi-space-growth-factor=1')
  return true
}

/**
 * Turns V8's optimizing compiler (TurboFan) off in the `vidspec` process, for every command but
 * `watch`, and only on the V8 versions it was measured on (Node 20 and 22).
 *
 * Why: a command runs for a second or a few, and in that time TurboFan compiles some 90 functions
 * on V8's helper threads (a cold plan's `#finish`, the esbuild protocol's `visit`, the linker's
 * `piece`: up to 80 ms each), competing for the two cores with esbuild and the spec workers, and
 * little of what it makes runs long enough to pay it back. Measured (benchmarks/README.md,
 * eighteenth session): a cold plan of 1,000 specs 0.89x the time, a plan in full 0.90-0.95x, a paid
 * build 0.85-0.90x the process's CPU; a cold plan of 10,000 specs 1.00-1.03x. Code that is mostly
 * builtins (strings, arrays, maps, JSON) runs as fast without it; a tight numeric loop ~3x slower,
 * which a spec's evaluation (a few ms) never notices. `watch` keeps it: it lives for hours, and its
 * hot paths run again and again. Node 24's V8 tiers up through Maglev first, and there turning
 * TurboFan off measured no gain (1.03x).
 */
export function skipOptimizingCompiler(
  command: string | undefined,
  v8Version: string = process.versions.v8,
  setFlags: (flags: string) => void = setFlagsFromString,
): boolean {
  const major = v8Major(v8Version)
  if (command === 'watch' || !(major >= 11 && major <= 12)) return false
  setFlags('--no-turbofan')
  return true
}
