// Issue 17, rows 4–5: `vidspec build --concurrency 8` of 200 specs against the fake Together server
// (100 ms per job, at most 8 jobs at once, 429 with retry-after beyond), in a fresh process, over a
// few rounds (a fresh project and server each). Wall time against the ideal (200 / 8 × 100 ms),
// duplicate creates (must be 0), and the client's CPU per generated job: the `vidspec` process and
// its children (ffprobe, when it runs one), read from /proc as it exits. On 2 cores the client and
// the fake server share the machine, and their CPU spread over the cores is a floor of the wall time
// once it exceeds what the jobs themselves take.
// Usage: tsx benchmarks/throughput.ts [specs, default 200] [job ms, default 100] [--rounds N]
import { availableParallelism } from 'node:os'
import { benchArgs } from './lib/args.js'
import { LIMIT, generationRound, pollMs, type Round } from './lib/generation.js'
import { fail, fmt, median, ratio, report, summarize } from './lib/measure.js'

const args = benchArgs()
const SPECS = Number(args.positional[0] ?? 200)
const JOB_MS = Number(args.positional[1] ?? 100)
const ROUNDS = args.number('--rounds', 3)
const POLL_MS = pollMs(JOB_MS)
const rounds: Round[] = []
for (let i = 0; i < ROUNDS; i++) rounds.push(await generationRound(SPECS, JOB_MS))
const med = (k: keyof Round) => median(rounds.map((r) => r[k]))
const ideal = (SPECS / LIMIT) * JOB_MS
const wall = med('wall')
const perJob = (ms: number) => `${(ms / SPECS).toFixed(1)} ms/job`
const clientPerJob = median(rounds.map((r) => (r.clientCpu + r.childCpu) / SPECS))
const marginalPerJob = median(rounds.map((r) => (r.clientCpu + r.childCpu - r.noopCpu) / SPECS))
const cores = availableParallelism()
const cpuTotal = median(rounds.map((r) => r.clientCpu + r.childCpu + r.serverCpu))
const duplicates = Math.max(...rounds.map((r) => r.duplicates))
report(`Generation throughput: ${SPECS} specs, server limit ${LIMIT} jobs, ${JOB_MS} ms per job, polling every ${POLL_MS} ms (medians of ${ROUNDS} rounds)`, [
  ['ideal (specs / limit × job time)', fmt(ideal)],
  ['vidspec build, wall time', `${fmt(wall)}  = ${ratio(wall, ideal)} ideal (target ≤ 1.2×); rounds: ${rounds.map((r) => ratio(r.wall, ideal)).join(', ')}`],
  ['  for comparison: the same build with every clip cached', fmt(med('noopWall'))],
  ['  not in these figures: the plan beforehand that evaluated the specs', `${fmt(med('evalWall'))} wall, ${fmt(med('evalCpu'))} CPU`],
  ['spawning the build to its first create', fmt(med('firstCreate'))],
  ['first create to last job done (the server-side window)', `${fmt(med('window'))}  = ${ratio(med('window'), ideal)} ideal; the ${LIMIT} server slots ${(((SPECS * JOB_MS) / (LIMIT * med('window'))) * 100).toFixed(0)}% busy in it`],
  ['  a slot idle between jobs: the polls seeing a job done late, then on to the next create', `${med('lateMs').toFixed(1)} ms + ${med('seenToCreateMs').toFixed(1)} ms per job`],
  ['duplicate creates (worst round)', `${duplicates} (target 0)`],
  ['429s answered to creates (then retried)', String(med('rejected'))],
  ['most jobs in flight on the server', String(med('maxInFlight'))],
  ['requests: polls / all', `${med('polls')} / ${med('requests')}`],
  ['CPU: vidspec process', `${fmt(med('clientCpu'))} = ${perJob(med('clientCpu'))}`],
  ['  of which its main thread (the rest: V8 compiling and GC, the thread pool)', `${fmt(med('mainCpu'))} = ${perJob(med('mainCpu'))}`],
  ['CPU: its children (ffprobe)', `${fmt(med('childCpu'))} = ${perJob(med('childCpu'))}`],
  ['CPU: client per generated job (process + children)', `${clientPerJob.toFixed(1)} ms/job (target ≤ 10 ms); beyond a cached build's ${fmt(med('noopCpu'))}: ${marginalPerJob.toFixed(1)} ms/job`],
  ['CPU: the fake server (this process)', `${fmt(med('serverCpu'))} = ${perJob(med('serverCpu'))}`],
  [`CPU: client and server, spread over ${cores} cores`, `${fmt(cpuTotal / cores)} = ${ratio(cpuTotal / cores, ideal)} ideal (a floor when above 1×)`],
])
if (duplicates > 0) fail(`${duplicates} key(s) were created more than once: paid twice`)

if (SPECS === 200 && JOB_MS === 100) {
  await summarize({
    order: 40,
    measure: 'client CPU per generated job (100 ms jobs, fake server)',
    figure: `process + children, median of ${ROUNDS} builds of ${SPECS}; ${marginalPerJob.toFixed(1)} ms beyond a cached build`,
    value: `${clientPerJob.toFixed(1)} ms`,
    target: '≤ 10 ms',
    met: clientPerJob <= 10,
  })
  await summarize({
    order: 50,
    measure: `generation throughput, ${SPECS} jobs of ${JOB_MS} ms, server limit ${LIMIT}`,
    figure: `${fmt(wall)} vs ideal ${fmt(ideal)}; ${duplicates} duplicate creates`,
    value: ratio(wall, ideal),
    target: '≤ 1.2×',
    met: wall / ideal <= 1.2 && duplicates === 0,
  })
}
