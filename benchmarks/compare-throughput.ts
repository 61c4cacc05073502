// A/B of a paid build between this checkout and another one (a clean clone of an earlier commit,
// installed and built): each round runs generation.ts's round (a fresh fake server and project, the
// specs evaluated beforehand, then `vidspec build` of every spec) once with each checkout's CLI,
// alternating, with which goes first swapped every round. The figures are what a change did to the
// client's CPU per job (the process, and its main thread) and to the wall time, where
// throughput.ts's own figures drift more between minutes than a change moves them. With --sound,
// every spec asks an audio-generating model for sound and every clip has an AAC track; with
// --lockfile N, the project's vidspec.lock.json pins N approved clips of other specs.
// Usage: tsx benchmarks/compare-throughput.ts <other checkout> [specs, default 200] [job ms, default 100] [--rounds N] [--sound] [--lockfile N]
import { join, resolve } from 'node:path'
import { benchArgs } from './lib/args.js'
import { generationRound, type Round } from './lib/generation.js'
import { cliPath, fail, fmt, median, ratio, report } from './lib/measure.js'

const args = benchArgs()
const other = args.positional[0]
if (!other) fail('usage: tsx benchmarks/compare-throughput.ts <other checkout> [specs] [job ms] [--rounds N] [--sound] [--lockfile N]')
const otherCli = join(resolve(other), 'packages/watcher/bin/vidspec.js')
const specs = Number(args.positional[1] ?? 200)
const jobMs = Number(args.positional[2] ?? 100)
const rounds = args.number('--rounds', 5)
const sound = args.has('--sound')
const lockfile = args.number('--lockfile', 0)

const theirs: Round[] = []
const ours: Round[] = []
for (let i = 0; i < rounds; i++) {
  const pair: Array<[Round[], string]> = [
    [theirs, otherCli],
    [ours, cliPath],
  ]
  for (const [into, cli] of i % 2 === 0 ? pair : pair.reverse()) {
    const round = await generationRound(specs, jobMs, cli, { sound, lockfile })
    if (round.duplicates > 0) fail(`${cli}: ${round.duplicates} key(s) created more than once`)
    into.push(round)
  }
}
type Measure = 'wall' | 'firstCreate' | 'window' | 'lateMs' | 'seenToCreateMs' | 'clientCpu' | 'mainCpu' | 'childCpu'
const med = (rs: Round[], k: Measure) => median(rs.map((r) => r[k]))
const row = (label: string, k: Measure, perJob: boolean): [string, string] => {
  const [a, b] = [med(theirs, k), med(ours, k)]
  const per = (ms: number) => (perJob ? ` (${(ms / specs).toFixed(1)} ms/job)` : '')
  return [label, `other ${fmt(a)}${per(a)}, this ${fmt(b)}${per(b)}  = ${a > 0 ? ratio(b, a) : '—'}`]
}
report(`vidspec build of ${specs} paid jobs of ${jobMs} ms${sound ? ', clips with sound,' : ''}${lockfile ? `, ${lockfile} approved clips in the lockfile,` : ''} against the fake server (medians of ${rounds} rounds each, alternating; other = ${other})`, [
  row('wall time', 'wall', false),
  row('  spawn to the first create', 'firstCreate', false),
  row('  first create to last job done', 'window', false),
  row('    per job, its end to the poll that saw it', 'lateMs', false),
  row('    per job, that poll to the next create', 'seenToCreateMs', false),
  row('CPU of the vidspec process', 'clientCpu', true),
  row('  of which its main thread', 'mainCpu', true),
  row('CPU of its children (ffprobe)', 'childCpu', true),
])
