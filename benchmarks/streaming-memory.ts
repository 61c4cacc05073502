// Benchmark 5: a 512 MiB result downloaded by `vidspec build`: the process's peak resident memory
// (the kernel's VmHWM, read as it exits) against the same build downloading a tiny result.
// Target: growth ≤ 64 MB. Usage: tsx benchmarks/streaming-memory.ts [MiB, default 512]
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { startFakeTogether } from '../test/fake-together/server.js'
import { benchEnv, fail, fmt, readStats, report, timed, writeStatsWrapper } from './lib/measure.js'
import { generateProject } from './lib/project.js'

const MiB = 1024 * 1024
const SIZE = Number(process.argv[2] ?? 512) * MiB
const KEY = 'tg-bench-0123456789abcdef'
if (!existsSync('/proc/self/status')) fail('needs /proc (Linux) to read a process peak memory')

const fake = await startFakeTogether({ apiKey: KEY, jobDurationMs: 30 })
const project = await generateProject(1, `export default { provider: 'together', include: ['src/**/*.video.ts'], together: { pollIntervalMs: 20 } }\n`)
const wrapper = await writeStatsWrapper(project.root)

async function peakBuild(name: string): Promise<{ peak: number; ms: number }> {
  await rm(join(project.root, '.vidspec'), { recursive: true, force: true })
  const statsFile = join(project.root, `stats-${name}.json`)
  const env = benchEnv({ TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: fake.baseURL, STATS_FILE: statsFile })
  const run = await timed(process.execPath, [wrapper, 'build', '--json', '--no-frozen'], { cwd: project.root, env })
  if (run.code !== 0) fail(`build failed:\n${run.stderr.slice(-2000)}`)
  return { peak: (await readStats(statsFile)).peakRss, ms: run.ms }
}

try {
  const tiny = await peakBuild('tiny')
  fake.options.largeResultBytes = SIZE
  const large = await peakBuild('large')
  const growth = large.peak - tiny.peak
  report(`Streaming memory: a ${SIZE / MiB} MiB result`, [
    ['peak RSS, tiny result (baseline)', `${(tiny.peak / MiB).toFixed(0)} MiB`],
    [`peak RSS, ${SIZE / MiB} MiB result`, `${(large.peak / MiB).toFixed(0)} MiB`],
    ['growth', `${(growth / MiB).toFixed(0)} MiB = ${((growth / SIZE) * 100).toFixed(1)}% of the file (target ≤ 64 MB)`],
    ['download + check + commit time', `${fmt(large.ms)} (${((SIZE / MiB) / (large.ms / 1000)).toFixed(0)} MiB/s end to end)`],
  ])
} finally {
  await fake.close()
  await project.dispose()
}
