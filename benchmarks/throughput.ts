// Benchmark 4: 200 specs against the fake Together server (100 ms per job, at most 8 jobs at once,
// 429 with retry-after beyond that), `vidspec build --concurrency 8` in a fresh process. Wall time
// against the ideal (200 / 8 × 100 ms), and duplicate creates (must be 0).
// Usage: tsx benchmarks/throughput.ts [specs, default 200]
import { startFakeTogether } from '../test/fake-together/server.js'
import { benchEnv, cliPath, fail, fmt, ratio, report, timed } from './lib/measure.js'
import { generateProject } from './lib/project.js'

const SPECS = Number(process.argv[2] ?? 200)
const LIMIT = 8
const JOB_MS = 100
const KEY = 'tg-bench-0123456789abcdef'
const config = `export default {
  provider: 'together',
  include: ['src/**/*.video.ts'],
  concurrency: ${LIMIT},
  retry: { retries: 8, minDelayMs: 20, maxDelayMs: 200 },
  // Polling at a tenth of the job time, as the defaults (2–15 s) do for jobs of minutes.
  together: { pollIntervalMs: 10, maxPollIntervalMs: 10 },
}
`

const fake = await startFakeTogether({ apiKey: KEY, jobDurationMs: JOB_MS, maxConcurrentJobs: LIMIT })
const project = await generateProject(SPECS, config)
try {
  const env = benchEnv({ TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: fake.baseURL })
  // Specs evaluated beforehand (as a `vidspec plan` would), so the figure is about generation.
  const plan = await timed(process.execPath, [cliPath, 'plan', '--json'], { cwd: project.root, env })
  if (plan.code !== 0) fail(`plan failed:\n${plan.stderr}`)
  const run = await timed(process.execPath, [cliPath, 'build', '--json', '--no-frozen'], { cwd: project.root, env })
  if (run.code !== 0) fail(`build failed (${run.code}):\n${run.stderr.slice(-2000)}`)
  const generated = (JSON.parse(run.stdout) as { counts: { generated: number } }).counts.generated
  if (generated !== SPECS) fail(`expected ${SPECS} generated, got ${generated}`)
  const duplicates = [...fake.createsByPrompt.values()].filter((n) => n > 1).length
  const rejected = fake.log.filter((r) => r.route === 'POST /videos' && r.outcome === 429).length

  // What the process costs with nothing to wait for: the same build again, every clip cached.
  const noop = await timed(process.execPath, [cliPath, 'build', '--json', '--no-frozen'], { cwd: project.root, env })
  const ideal = (SPECS / LIMIT) * JOB_MS
  const created = fake.jobs.map((j) => j.createdAt).sort((a, b) => a - b)
  const window = created.at(-1)! + JOB_MS - created[0]!
  const busy = (SPECS * JOB_MS) / (LIMIT * window)
  report(`Generation throughput: ${SPECS} specs, server limit ${LIMIT} jobs, ${JOB_MS} ms per job`, [
    ['ideal (specs / limit × job time)', fmt(ideal)],
    ['vidspec build, wall time', `${fmt(run.ms)}  = ${ratio(run.ms, ideal)} ideal (target ≤ 1.2×)`],
    ['  for comparison: the same build with every clip cached', fmt(noop.ms)],
    ['  for comparison: evaluating the specs first (plan, no memo)', fmt(plan.ms)],
    ['first create to last job done (the server-side window)', `${fmt(window)}  = ${ratio(window, ideal)} ideal; the ${LIMIT} server slots ${(busy * 100).toFixed(0)}% busy in it`],
    ['creates / duplicate creates', `${fake.creates} / ${duplicates} (target 0 duplicates)`],
    ['429s answered to creates (then retried)', String(rejected)],
    ['most jobs in flight on the server', String(fake.maxInFlight)],
  ])
} finally {
  await fake.close()
  await project.dispose()
}
