// Benchmark 5: a 512 MiB result downloaded by `vidspec build`: the process's peak resident memory
// (the kernel's VmHWM, read as it exits) against the same build downloading a tiny result.
// Target: growth ≤ 64 MB. Each build runs 3 times and the median counts: a process's peak moves by a
// few MiB from run to run with the timing of garbage collection.
// Usage: tsx benchmarks/streaming-memory.ts [MiB, default 512]
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { startFakeTogether } from '../test/fake-together/server.js'
import { benchEnv, fail, fmt, median, readStats, report, timed, writeStatsWrapper } from './lib/measure.js'
import { generateProject } from './lib/project.js'

const MiB = 1024 * 1024
const SIZE = Number(process.argv[2] ?? 512) * MiB
const KEY = 'tg-bench-0123456789abcdef'
if (!existsSync('/proc/self/status')) fail('needs /proc (Linux) to read a process peak memory')

const fake = await startFakeTogether({ apiKey: KEY, jobDurationMs: 30 })
const project = await generateProject(1, `export default { provider: 'together', include: ['src/**/*.video.ts'], jobs: { pollIntervalMs: 20 } }\n`)
const wrapper = await writeStatsWrapper(project.root)

async function peakBuild(name: string): Promise<{ peak: number; ms: number }> {
  await rm(join(project.root, '.vidspec'), { recursive: true, force: true })
  const statsFile = join(project.root, `stats-${name}.json`)
  const env = benchEnv({ TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: fake.baseURL, STATS_FILE: statsFile })
  const run = await timed(process.execPath, [wrapper, 'build', '--json', '--no-frozen'], { cwd: project.root, env })
  if (run.code !== 0) fail(`build failed:\n${run.stderr.slice(-2000)}`)
  return { peak: (await readStats(statsFile)).peakRss, ms: run.ms }
}

async function medianOf3(name: string): Promise<{ peak: number; ms: number; peaks: number[] }> {
  const runs = [await peakBuild(name), await peakBuild(name), await peakBuild(name)]
  const peaks = runs.map((r) => r.peak)
  return { peak: median(peaks), ms: median(runs.map((r) => r.ms)), peaks }
}

try {
  const tiny = await medianOf3('tiny')
  fake.options.largeResultBytes = SIZE
  const large = await medianOf3('large')
  const growth = large.peak - tiny.peak
  const mib = (b: number) => (b / MiB).toFixed(0)
  report(`Streaming memory: a ${SIZE / MiB} MiB result`, [
    ['peak RSS, tiny result (baseline)', `${mib(tiny.peak)} MiB (runs: ${tiny.peaks.map(mib).join(', ')})`],
    [`peak RSS, ${SIZE / MiB} MiB result`, `${mib(large.peak)} MiB (runs: ${large.peaks.map(mib).join(', ')})`],
    ['growth', `${(growth / MiB).toFixed(0)} MiB = ${((growth / SIZE) * 100).toFixed(1)}% of the file (target ≤ 64 MB)`],
    ['download + check + commit time', `${fmt(large.ms)} (${((SIZE / MiB) / (large.ms / 1000)).toFixed(0)} MiB/s end to end)`],
  ])
} finally {
  await fake.close()
  await project.dispose()
}
