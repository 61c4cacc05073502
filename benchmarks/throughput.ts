// Benchmark 4: 200 specs against the fake Together server (100 ms per job, at most 8 jobs at once,
// 429 with retry-after beyond that), `vidspec build --concurrency 8` in a fresh process. Wall time
// against the ideal (200 / 8 × 100 ms), and duplicate creates (must be 0). Also where the CPU went:
// on 2 cores the client, its ffprobe children and the fake server share the machine, and that sum
// is the floor of the wall time once it exceeds what the jobs themselves take.
// Usage: tsx benchmarks/throughput.ts [specs, default 200] [job ms, default 100]
import { join } from 'node:path'
import { availableParallelism } from 'node:os'
import { startFakeTogether } from '../test/fake-together/server.js'
import { benchEnv, fail, fmt, ratio, readStats, report, timed, writeStatsWrapper } from './lib/measure.js'
import { generateProject } from './lib/project.js'

const SPECS = Number(process.argv[2] ?? 200)
const JOB_MS = Number(process.argv[3] ?? 100)
const LIMIT = 8
const KEY = 'tg-bench-0123456789abcdef'
// Polling at a tenth of the job time, as the defaults (2–15 s) do for jobs of minutes.
const POLL_MS = Math.max(10, Math.round(JOB_MS / 10))
const config = `export default {
  provider: 'together',
  include: ['src/**/*.video.ts'],
  concurrency: ${LIMIT},
  retry: { retries: 8, minDelayMs: 20, maxDelayMs: 200 },
  jobs: { pollIntervalMs: ${POLL_MS}, maxPollIntervalMs: ${POLL_MS} },
}
`

const fake = await startFakeTogether({ apiKey: KEY, jobDurationMs: JOB_MS, maxConcurrentJobs: LIMIT })
const project = await generateProject(SPECS, config)
try {
  const wrapper = await writeStatsWrapper(project.root)
  const statsFile = join(project.root, 'stats.json')
  const env = benchEnv({ TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: fake.baseURL, STATS_FILE: statsFile })
  // Specs evaluated beforehand (as a `vidspec plan` would), so the figure is about generation.
  const plan = await timed(process.execPath, [wrapper, 'plan', '--json'], { cwd: project.root, env })
  if (plan.code !== 0) fail(`plan failed:\n${plan.stderr}`)
  const serverCpuBefore = process.cpuUsage()
  const run = await timed(process.execPath, [wrapper, 'build', '--json', '--no-frozen'], { cwd: project.root, env })
  const serverCpu = process.cpuUsage(serverCpuBefore)
  if (run.code !== 0) fail(`build failed (${run.code}):\n${run.stderr.slice(-2000)}`)
  const client = await readStats(statsFile)
  const generated = (JSON.parse(run.stdout) as { counts: { generated: number } }).counts.generated
  if (generated !== SPECS) fail(`expected ${SPECS} generated, got ${generated}`)
  const duplicates = [...fake.createsByPrompt.values()].filter((n) => n > 1).length
  const rejected = fake.log.filter((r) => r.route === 'POST /videos' && r.outcome === 429).length

  // What the process costs with nothing to wait for: the same build again, every clip cached.
  const noop = await timed(process.execPath, [wrapper, 'build', '--json', '--no-frozen'], { cwd: project.root, env })
  const ideal = (SPECS / LIMIT) * JOB_MS
  const created = fake.jobs.map((j) => j.createdAt).sort((a, b) => a - b)
  const window = created.at(-1)! + JOB_MS - created[0]!
  const busy = (SPECS * JOB_MS) / (LIMIT * window)
  const serverMs = (serverCpu.user + serverCpu.system) / 1000
  const cpuTotal = client.cpuMs + client.childCpuMs + serverMs
  const perJob = (ms: number) => `${(ms / SPECS).toFixed(1)} ms/job`
  report(`Generation throughput: ${SPECS} specs, server limit ${LIMIT} jobs, ${JOB_MS} ms per job, polling every ${POLL_MS} ms`, [
    ['ideal (specs / limit × job time)', fmt(ideal)],
    ['vidspec build, wall time', `${fmt(run.ms)}  = ${ratio(run.ms, ideal)} ideal (target ≤ 1.2×)`],
    ['  for comparison: the same build with every clip cached', fmt(noop.ms)],
    ['  for comparison: evaluating the specs first (plan, no memo)', fmt(plan.ms)],
    ['first create to last job done (the server-side window)', `${fmt(window)}  = ${ratio(window, ideal)} ideal; the ${LIMIT} server slots ${(busy * 100).toFixed(0)}% busy in it`],
    ['creates / duplicate creates', `${fake.creates} / ${duplicates} (target 0 duplicates)`],
    ['429s answered to creates (then retried)', String(rejected)],
    ['most jobs in flight on the server', String(fake.maxInFlight)],
    ['requests: polls / all', `${fake.polls} / ${fake.log.length}`],
    ['CPU: vidspec process', `${fmt(client.cpuMs)} = ${perJob(client.cpuMs)}`],
    ['CPU: its ffprobe children', `${fmt(client.childCpuMs)} = ${perJob(client.childCpuMs)}`],
    ['CPU: the fake server (this process)', `${fmt(serverMs)} = ${perJob(serverMs)}`],
    [`CPU: all three, spread over ${availableParallelism()} cores`, `${fmt(cpuTotal / availableParallelism())} = ${ratio(cpuTotal / availableParallelism(), ideal)} ideal (a floor when above 1×)`],
  ])
} finally {
  await fake.close()
  await project.dispose()
}
