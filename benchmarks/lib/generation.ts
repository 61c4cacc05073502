// One round of the generation benchmarks (throughput.ts, compare-throughput.ts): a fresh fake
// Together server (jobs of `jobMs`, at most LIMIT at once, 429 with retry-after beyond) and a fresh
// project of `specs` specs; a `vidspec plan` evaluates them first, so the build that follows pays
// only for generating; then the same build again with every clip cached.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startFakeTogether } from '../../test/fake-together/server.js'
import { benchEnv, cliPath, fail, readStats, timed, writeStatsWrapper } from './measure.js'
import { generateProject } from './project.js'
import { slotGaps } from './slot-gaps.js'

export const LIMIT = 8
const KEY = 'tg-bench-0123456789abcdef'
/** Polling at a tenth of the job time, as the defaults (2–15 s) do for jobs of minutes. */
export const pollMs = (jobMs: number): number => Math.max(10, Math.round(jobMs / 10))
const config = (jobMs: number): string => `export default {
  provider: 'together',
  include: ['src/**/*.video.ts'],
  concurrency: ${LIMIT},
  retry: { retries: 8, minDelayMs: 20, maxDelayMs: 200 },
  jobs: { pollIntervalMs: ${pollMs(jobMs)}, maxPollIntervalMs: ${pollMs(jobMs)} },
}
`

export interface Round {
  wall: number
  /** The plan beforehand, evaluating every spec: wall and CPU. */
  evalWall: number
  evalCpu: number
  noopWall: number
  clientCpu: number
  /** Of clientCpu, the main thread's. */
  mainCpu: number
  childCpu: number
  noopCpu: number
  serverCpu: number
  window: number
  /** From spawning the build to the server's first create. */
  firstCreate: number
  /** Per job, how late the polls saw it done; per slot freed, from that poll to the next create (see slot-gaps.ts). */
  lateMs: number
  seenToCreateMs: number
  duplicates: number
  rejected: number
  polls: number
  requests: number
  maxInFlight: number
}

/**
 * `cli`: the vidspec bin to run (another checkout's, to compare two). `sound`: the specs ask an
 * audio-generating model for sound, and every clip has an AAC track. `lockfile`: the project has a
 * vidspec.lock.json pinning that many approved clips of other specs (a site with a history).
 */
export async function generationRound(specs: number, jobMs: number, cli: string = cliPath, opts: { sound?: boolean; lockfile?: number } = {}): Promise<Round> {
  const fake = await startFakeTogether({ apiKey: KEY, jobDurationMs: jobMs, maxConcurrentJobs: LIMIT })
  const project = await generateProject(specs, config(jobMs), { sound: opts.sound })
  try {
    if (opts.lockfile) await writeFile(join(project.root, 'vidspec.lock.json'), approvedClips(opts.lockfile))
    const wrapper = await writeStatsWrapper(project.root, cli)
    const statsFile = join(project.root, 'stats.json')
    const env = benchEnv({ TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: fake.baseURL, STATS_FILE: statsFile })
    // Specs evaluated beforehand, so the figure is about generation: a `vidspec plan` in a project
    // that has a store (a plan never creates one, and without one it keeps no memo of what it evaluated).
    await mkdir(join(project.root, '.vidspec'))
    const plan = await timed(process.execPath, [wrapper, 'plan', '--json'], { cwd: project.root, env })
    if (plan.code !== 0) fail(`plan failed:\n${plan.stderr}`)
    const evaluation = await readStats(statsFile)
    // The precondition: the plan's memo holds every spec, so the build evaluates none of them again.
    const memo = JSON.parse(await readFile(join(project.root, '.vidspec/memo/specs-together.json'), 'utf8')) as { specs: object }
    if (Object.keys(memo.specs).length !== specs) fail(`PRECONDITION FAILED: the plan remembered ${Object.keys(memo.specs).length} of ${specs} specs`)
    const serverCpuBefore = process.cpuUsage()
    const spawnedAt = Date.now()
    const run = await timed(process.execPath, [wrapper, 'build', '--json', '--no-frozen'], { cwd: project.root, env })
    const serverCpu = process.cpuUsage(serverCpuBefore)
    if (run.code !== 0) fail(`build failed (${run.code}):\n${run.stderr.slice(-2000)}`)
    const client = await readStats(statsFile)
    const generated = (JSON.parse(run.stdout) as { counts: { generated: number } }).counts.generated
    if (generated !== specs) fail(`expected ${specs} generated, got ${generated}`)
    // What the process costs with nothing to wait for: the same build again, every clip cached.
    const noop = await timed(process.execPath, [wrapper, 'build', '--json', '--no-frozen'], { cwd: project.root, env })
    if (noop.code !== 0) fail(`the cached build failed (${noop.code}):\n${noop.stderr.slice(-2000)}`)
    const noopStats = await readStats(statsFile)
    const created = fake.jobs.map((j) => j.createdAt).sort((a, b) => a - b)
    const gaps = slotGaps(fake.jobs, fake.log, LIMIT)
    return {
      wall: run.ms,
      evalWall: plan.ms,
      evalCpu: evaluation.cpuMs + evaluation.childCpuMs,
      noopWall: noop.ms,
      clientCpu: client.cpuMs,
      mainCpu: client.mainThreadCpuMs,
      childCpu: client.childCpuMs,
      noopCpu: noopStats.cpuMs + noopStats.childCpuMs,
      serverCpu: (serverCpu.user + serverCpu.system) / 1000,
      window: (created.at(-1) ?? 0) + jobMs - (created[0] ?? 0),
      firstCreate: (created[0] ?? spawnedAt) - spawnedAt,
      lateMs: gaps.lateMs,
      seenToCreateMs: gaps.seenToCreateMs,
      duplicates: [...fake.createsByPrompt.values()].filter((n) => n > 1).length,
      rejected: fake.log.filter((r) => r.route === 'POST /videos' && r.outcome === 429).length,
      polls: fake.polls,
      requests: fake.log.length,
      maxInFlight: fake.maxInFlight,
    }
  } finally {
    await fake.close()
    await project.dispose()
  }
}

/** A lockfile of `n` approved clips, each the size a real one has (its request, deps). */
function approvedClips(n: number): string {
  const hex = (i: number, salt: number) => ((i * 2654435761 + salt) >>> 0).toString(16).padStart(8, '0').repeat(8)
  const specs: Record<string, unknown> = {}
  for (let i = 0; i < n; i++) {
    const request = { model: 'minimax/hailuo-02', prompt: `approved clip ${i}: a slow pan over a harbour at dawn, fishing boats, gulls, soft light`, seconds: 6, width: 1366, height: 768, fps: 25, seed: i }
    specs[`src/approved/clip-${i}.video.ts`] = { key: hex(i, 1), digest: hex(i, 2), ext: 'mp4', size: 2_000_000 + i, mime: 'video/mp4', provider: 'together', preview: false, model: request.model, jobId: `job-${hex(i, 3).slice(0, 24)}`, seed: i, request, media: {}, deps: { 'src/brand.ts': hex(0, 4) } }
  }
  return `${JSON.stringify({ version: 1, specs }, null, 2)}\n`
}
