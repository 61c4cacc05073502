import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Vidspec, type Logger, type VidspecEvent } from '@vidspec/core'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { togetherProject, togetherSpec } from '../helpers/together.js'
import type { TempProject } from '../helpers/project.js'

// A build of many alike paid jobs learns how long they take and stops asking about each one before
// it can be done: counted per job over real HTTP against the fake, and a slower job than the ones
// before it is still seen done. And a job seen done gives its slot to the next spec, whose create
// goes before the finished job's download: the order the fake received them in.

const API_KEY = 'tg-poll-schedule-3a9c0e51d7b2f468'
const JOB_MS = 400
const POLL_MS = 20

let fake: FakeTogether
let project: TempProject | undefined
beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: JOB_MS })
})
afterAll(async () => {
  await fake?.close()
})
afterEach(async () => {
  await project?.dispose()
  project = undefined
  fake.reset()
  fake.options.jobDurationMs = JOB_MS
})

async function open(count: number, pollMs = POLL_MS): Promise<{ vs: Vidspec; events: VidspecEvent[] }> {
  project = await togetherProject(count)
  const events: VidspecEvent[] = []
  const logger: Logger = { debug() {}, info() {}, warn() {}, error() {}, event: (e) => void events.push(e) }
  const vs = await Vidspec.open({
    root: project.root,
    env: { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL },
    overrides: {
      provider: 'together',
      concurrency: 1,
      retry: { retries: 4, minDelayMs: 5, maxDelayMs: 50 },
      jobs: { pollIntervalMs: pollMs, maxPollIntervalMs: pollMs },
    },
    logger,
  })
  return { vs, events }
}

/** Polls the fake answered, by job id, in the order the jobs were created. */
function pollsPerJob(): number[] {
  const byPath = new Map<string, number>()
  for (const r of fake.log) if (r.route === 'GET /videos/:id') byPath.set(r.path, (byPath.get(r.path) ?? 0) + 1)
  return fake.jobs.map((j) => [...byPath].filter(([path]) => path.endsWith(`/${j.id}`)).reduce((n, [, c]) => n + c, 0))
}

describe('the poll schedule of a build of alike jobs', () => {
  it('polls the first job every interval and the later ones only near the end the first one took', async () => {
    const { vs, events } = await open(4)
    const { items } = await vs.build()
    expect(items.map((i) => i.status)).toEqual(Array(4).fill('generated'))
    expect(fake.creates).toBe(4)
    const [first, ...later] = pollsPerJob()
    // 400 ms at 20 ms: about 20 polls for the first; the others wait 80% of its time, then poll.
    expect(first).toBeGreaterThanOrEqual(12)
    for (const n of later) expect(n).toBeLessThanOrEqual(8)
    expect(later.reduce((a, b) => a + b, 0)).toBeLessThan((first ?? 0) * later.length * 0.5)
    // Progress is still told at every interval while a job is left alone.
    const lastSpec = items.at(-1)?.id
    expect(events.filter((e) => e.type === 'job:progress' && e.spec === lastSpec).length).toBeGreaterThanOrEqual(12)
  })

  it('sees a job done that takes longer than the ones before it', async () => {
    const { vs } = await open(2)
    expect((await vs.build()).items.map((i) => i.status)).toEqual(['generated', 'generated'])
    fake.options.jobDurationMs = 2 * JOB_MS
    await project?.write('slow.video.ts', togetherSpec('slower than the rest'))
    const { items } = await vs.build()
    const slow = items.find((i) => i.id === 'slow.video.ts')
    expect(slow?.status).toBe('generated')
    expect(fake.creates).toBe(3)
    // Left alone for 80% of the others' time, then asked every interval until done.
    expect(pollsPerJob()[2]).toBeGreaterThanOrEqual(Math.floor((2 * JOB_MS - 0.8 * JOB_MS) / POLL_MS / 2))
  })

  it('sees alike jobs done within a few ms of their end once the span of their ends is known, not half an interval later', async () => {
    // An interval long enough that a busy test machine's late timers do not blur it.
    const pollMs = 40
    const jobs = 10
    fake.options.jobDurationMs = 300
    const { vs } = await open(jobs, pollMs)
    const { items } = await vs.build()
    expect(items.map((i) => i.status)).toEqual(Array(jobs).fill('generated'))
    // On the fake's clock, each job's polls: the first few are asked every interval, then from 80%
    // of the shortest; the rest in the middle and at the end of the span the ends seen lie in.
    const polls = fake.jobs.map((job) => fake.log.filter((r) => r.route === 'GET /videos/:id' && r.path.endsWith(`/${job.id}`)).map((r) => r.at))
    const late = fake.jobs.map((job, i) => Math.min(...(polls[i] ?? []).filter((at) => at >= job.createdAt + job.durationMs)) - job.createdAt - job.durationMs)
    const pinned = late.slice(4).sort((a, b) => a - b)
    // Half an interval late on average when asked every interval; a quarter is rare even for the median of six.
    expect(pinned[Math.floor(pinned.length / 2)]).toBeLessThanOrEqual(pollMs / 4)
    expect(Math.max(...pollsPerJob().slice(4))).toBeLessThanOrEqual(4)
    // Most later jobs are seen done at their first ask, or by a second ask in a span narrower than an
    // interval (the rest: asked from one interval before the shortest, after three in a row were done
    // at their first ask). Asked every interval from before the shortest time, none is done at its
    // first ask, and every two asks are an interval apart.
    const inSpan = polls.slice(4).filter((at) => at.length === 1 || (at.at(-1) ?? 0) - (at.at(-2) ?? 0) < pollMs / 2)
    expect(inSpan.length).toBeGreaterThanOrEqual((jobs - 4) / 2)
  })
})

describe('a finished paid job and the next create', () => {
  it("sends the next spec's create, and has it answered, before the finished job downloads", async () => {
    const jobs = 5
    fake.options.jobDurationMs = 60
    const { vs } = await open(jobs)
    const { items } = await vs.build()
    expect(items.map((i) => i.status)).toEqual(Array(jobs).fill('generated'))
    expect(fake.creates).toBe(jobs)
    const at = (route: string) => fake.log.flatMap((r, i) => (r.route === route ? [i] : []))
    const creates = at('POST /videos')
    const downloads = at('GET /shrt/:token')
    expect(creates).toHaveLength(jobs)
    expect(downloads).toHaveLength(jobs)
    // One slot: job k's download comes after job k+1's create, and as soon as that is answered, not
    // after the longest wait: before job k+1 is done and job k+2 created (60 ms later at least).
    for (let k = 0; k < jobs - 1; k++) expect(downloads[k]).toBeGreaterThan(creates[k + 1] as number)
    for (let k = 0; k < jobs - 2; k++) expect(downloads[k]).toBeLessThan(creates[k + 2] as number)
  })
})
