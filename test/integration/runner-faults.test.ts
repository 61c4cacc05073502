import { createHash } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Vidspec, type BuildItem, type Logger, type VidspecConfigInput, type VidspecEvent } from '@vidspec/core'
import { Store } from '@vidspec/core/internal'
import { TINY_CLIP, clip } from '../fake-together/clips.js'
import { startFakeTogether, type Fault, type FakeTogether } from '../fake-together/server.js'
import { FAST, journals, soundStore, storeShape, togetherProject, togetherSpec } from '../helpers/together.js'
import type { TempProject } from '../helpers/project.js'
import { waitFor } from '../helpers/wait.js'

// Each fault family against the real runner, engine and Together provider, over real HTTP. For every
// outcome the fake's counters say how many jobs were paid for, and the store is checked for what must
// never be there: an entry for a failure, a partial object, a temp file, a leftover lock.

const API_KEY = 'tg-runner-faults-7c1e5a0b9d2f4e68'
const JOB_MS = 60

let fake: FakeTogether
const cleanups: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: JOB_MS })
})
afterAll(async () => {
  await fake?.close()
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  fake.reset()
  fake.options.jobDurationMs = JOB_MS
  fake.options.maxConcurrentJobs = Infinity
  fake.options.largeResultBytes = undefined
})

interface Setup {
  project: TempProject
  vs: Vidspec
  events: VidspecEvent[]
  build(opts?: { signal?: AbortSignal }): Promise<BuildItem[]>
  /** Opens the same project again, as a later run would. */
  reopen(overrides?: Partial<VidspecConfigInput>): Promise<Vidspec>
}

async function setup(count: number, overrides: Partial<VidspecConfigInput> = {}, apiKey = API_KEY): Promise<Setup> {
  const project = await togetherProject(count)
  cleanups.push(() => project.dispose())
  const events: VidspecEvent[] = []
  const logger: Logger = { debug() {}, info() {}, warn() {}, error() {}, event: (e) => void events.push(e) }
  const open = (over: Partial<VidspecConfigInput>) =>
    Vidspec.open({
      root: project.root,
      env: { TOGETHER_API_KEY: apiKey, TOGETHER_BASE_URL: fake.baseURL },
      overrides: { ...FAST, ...over, together: { ...FAST.together, ...over.together }, jobs: { ...FAST.jobs, ...over.jobs } },
      logger,
    })
  const vs = await open(overrides)
  const s: Setup = {
    project,
    vs,
    events,
    async build(opts = {}) {
      const { items } = await s.vs.build(opts)
      return items.sort((a, b) => a.id.localeCompare(b.id))
    },
    async reopen(over = overrides) {
      s.vs = await open(over)
      return s.vs
    },
  }
  return s
}

const creates = () => fake.requests.get('POST /videos') ?? 0
const retries = (events: VidspecEvent[]) => events.filter((e) => e.type === 'job:retry')

/** The project's store, read from outside as another process would (the project keeps its own private). */
const storeOf = (vs: Vidspec): Store => new Store(vs.config.cacheDir)

/** Exactly one entry per generated item, nothing else left behind. */
async function expectStore(vs: Vidspec, want: { entries: number; journals: number }): Promise<void> {
  const store = await soundStore(storeOf(vs))
  expect(store.problems).toEqual([])
  expect(store.entries).toHaveLength(want.entries)
  expect(store.journals).toHaveLength(want.journals)
}

function failure(item: BuildItem | undefined): { code: string | undefined; message: string } {
  expect(item?.status).toBe('failed')
  const err = item?.error as (Error & { code?: string }) | undefined
  return { code: err?.code, message: err?.message ?? '' }
}

describe('happy path', () => {
  it('N specs make N creates and N stored clips carrying job id and cost, at most `concurrency` at once', async () => {
    const s = await setup(5, { concurrency: 2 })
    const items = await s.build()
    expect(items.map((i) => i.status)).toEqual(Array(5).fill('generated'))
    expect(fake.creates).toBe(5)
    expect([...fake.createsByPrompt.values()]).toEqual([1, 1, 1, 1, 1])
    expect(fake.maxInFlight).toBeLessThanOrEqual(2)
    const jobIds = new Set(fake.jobs.map((j) => j.id))
    for (const item of items) {
      expect(jobIds.has(item.entry?.jobId ?? '')).toBe(true)
      expect(item.entry).toMatchObject({ provider: 'together', preview: false, cost: 0.05, ext: 'mp4', codec: 'h264' })
      expect(await storeOf(s.vs).getEntry(item.key ?? '')).toEqual(item.entry)
    }
    expect(new Set(items.map((i) => i.entry?.jobId)).size).toBe(5)
    await expectStore(s.vs, { entries: 5, journals: 0 })

    const again = await (await s.reopen()).build()
    expect(again.items.map((i) => i.status)).toEqual(Array(5).fill('cached'))
    expect(fake.creates).toBe(5)
  })

  it('a WEBM spec is stored as WebM', async () => {
    const s = await setup(0)
    await s.project.write('loop.video.ts', togetherSpec('loop').replace('height: 768', "height: 768, output_format: 'WEBM'"))
    const [item] = await s.build()
    expect(item?.status, item?.error?.message).toBe('generated')
    expect(item?.entry).toMatchObject({ ext: 'webm', mime: 'video/webm' })
    expect(fake.jobs[0]?.format).toBe('WEBM')
    await expectStore(s.vs, { entries: 1, journals: 0 })
  })

  it('two specs with the same request share one job (in-process single-flight)', async () => {
    const s = await setup(1)
    await s.project.write('twin.video.ts', await s.project.read('clip-0.video.ts'))
    const items = await s.build()
    expect(items.map((i) => i.status)).toEqual(['generated', 'generated'])
    expect(items[0]?.key).toBe(items[1]?.key)
    expect(fake.creates).toBe(1)
    expect(s.events.some((e) => e.type === 'job:waiting' && e.reason === 'in-process')).toBe(true)
    await expectStore(s.vs, { entries: 1, journals: 0 })
  })

  it('two engines on one store, building at once, pay once per key (the store lock)', async () => {
    const s = await setup(3)
    const first = s.vs
    const other = await s.reopen()
    const [a, b] = await Promise.all([first.build(), other.build()])
    expect(fake.creates).toBe(3)
    expect(a.counts.failed + b.counts.failed).toBe(0)
    expect(a.counts.generated + b.counts.generated).toBe(3)
    expect(a.counts.cached + b.counts.cached).toBe(3)
    await expectStore(other, { entries: 3, journals: 0 })
  })

  it('a server that admits one job at a time: 429 with retry-after-ms, every clip still made once', async () => {
    fake.options.maxConcurrentJobs = 1
    const s = await setup(3, { concurrency: 3 })
    const items = await s.build()
    expect(items.map((i) => i.status)).toEqual(['generated', 'generated', 'generated'])
    expect(fake.creates).toBe(3)
    expect(fake.maxInFlight).toBe(1)
    expect(retries(s.events).length).toBeGreaterThan(0)
    await expectStore(s.vs, { entries: 3, journals: 0 })
  })
})

describe('create: refusals from the API itself are retried', () => {
  // Only answers that prove no job was made: a 429, and a 503 with the API's JSON error body. A 500,
  // 502 or 408 may come after the job was started (see the uncertain cases below).
  const transient: Fault[] = [
    { kind: 'rate-limit', retryAfterMs: 10, times: 2 },
    { kind: 'unavailable', times: 2 },
  ]
  it.each(transient.map((f) => [`${f.kind} ${'status' in f ? f.status : ''}`, f] as const))('%s', async (_name, fault) => {
    fake.fault(fault)
    const s = await setup(1)
    const [item] = await s.build()
    expect(item?.status, item?.error?.message).toBe('generated')
    expect(creates()).toBe(3)
    expect(fake.creates).toBe(1)
    expect(retries(s.events)).toHaveLength(2)
    await expectStore(s.vs, { entries: 1, journals: 0 })
  })

  it('waits as long as retry-after-ms / retry-after say', async () => {
    fake.fault({ kind: 'rate-limit', retryAfterMs: 240 }).fault({ kind: 'unavailable', retryAfterS: 1 })
    const s = await setup(1)
    const started = Date.now()
    const [item] = await s.build()
    expect(item?.status).toBe('generated')
    expect(retries(s.events).map((e) => e.type === 'job:retry' && e.delayMs)).toEqual([240, 1000])
    expect(Date.now() - started).toBeGreaterThanOrEqual(1240)
    expect(fake.creates).toBe(1)
  })

  it('a server that refuses connections: retried (nothing was sent), then PROVIDER_UNAVAILABLE', async () => {
    const down = await startFakeTogether({ apiKey: API_KEY })
    const deadURL = down.baseURL
    await down.close()
    const s = await setup(1)
    const vs = await Vidspec.open({
      root: s.project.root,
      env: { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: deadURL },
      overrides: FAST,
      logger: { debug() {}, info() {}, warn() {}, error() {}, event: (e) => void s.events.push(e) },
    })
    const [item] = (await vs.build()).items
    const { code, message } = failure(item)
    expect(code).toBe('PROVIDER_UNAVAILABLE')
    expect(message).toMatch(/ECONNREFUSED.*trying again is safe/)
    expect(retries(s.events)).toHaveLength(FAST.retry.retries)
    await expectStore(vs, { entries: 0, journals: 0 })
  })

  it('gives up after the configured retries with PROVIDER_RATE_LIMITED, having paid nothing', async () => {
    fake.fault({ kind: 'rate-limit', retryAfterMs: 1, times: 5 })
    const s = await setup(1)
    const [item] = await s.build()
    const { code, message } = failure(item)
    expect(code).toBe('PROVIDER_RATE_LIMITED')
    expect(message).toMatch(/rate limiting us \(429\)/)
    expect(creates()).toBe(5)
    expect(fake.creates).toBe(0)
    await expectStore(s.vs, { entries: 0, journals: 0 })
  })
})

describe('create: 401, 402 and 400 fail fast', () => {
  it('401 says how to set the key, never shows it, and is not retried', async () => {
    fake.fault({ kind: 'auth' })
    const s = await setup(1)
    const [item] = await s.build()
    const { code, message } = failure(item)
    expect(code).toBe('PROVIDER_AUTH')
    expect(message).toContain('TOGETHER_API_KEY')
    expect(message).not.toContain(API_KEY)
    expect(creates()).toBe(1)
    expect(retries(s.events)).toEqual([])
    await expectStore(s.vs, { entries: 0, journals: 0 })
  })

  it('a wrong key: the same clear 401, one request per spec', async () => {
    const wrong = 'tg-wrong-key-00112233445566778899'
    const s = await setup(2, {}, wrong)
    const items = await s.build()
    for (const item of items) {
      const { code, message } = failure(item)
      expect(code).toBe('PROVIDER_AUTH')
      expect(message).not.toContain(wrong)
    }
    expect(creates()).toBe(2)
    expect(fake.creates).toBe(0)
    await expectStore(s.vs, { entries: 0, journals: 0 })
  })

  it('402 names the billing problem and is not retried', async () => {
    fake.fault({ kind: 'payment' })
    const s = await setup(1)
    const { code, message } = failure((await s.build())[0])
    expect(code).toBe('PROVIDER_PAYMENT')
    expect(message).toMatch(/402.*credits/)
    expect(creates()).toBe(1)
    await expectStore(s.vs, { entries: 0, journals: 0 })
  })

  it('400 passes the server reason on and is not retried', async () => {
    fake.fault({ kind: 'http-error', status: 400, message: 'fps must be at most 30 for this model' })
    const s = await setup(1)
    const { code, message } = failure((await s.build())[0])
    expect(code).toBe('PROVIDER_BAD_REQUEST')
    expect(message).toContain('fps must be at most 30 for this model')
    expect(creates()).toBe(1)
    expect(fake.creates).toBe(0)
    await expectStore(s.vs, { entries: 0, journals: 0 })
  })
})

describe('create: an answer lost after the request was sent is never retried blindly', () => {
  const uncertain: Fault[] = [
    { kind: 'drop-after-create' },
    { kind: 'hang-after-create' },
    { kind: 'malformed' },
    { kind: 'drop' },
    { kind: 'hang' },
    { kind: 'server-error' },
    { kind: 'http-error', status: 502 },
    { kind: 'http-error', status: 408 },
  ]
  it.each(uncertain.map((f) => [f.kind, f] as const))('%s: PROVIDER_CREATE_UNCERTAIN after one request', async (kind, fault) => {
    fake.fault(fault)
    const s = await setup(1, { together: { requestTimeoutMs: 300 } })
    const { code, message } = failure((await s.build())[0])
    expect(code).toBe('PROVIDER_CREATE_UNCERTAIN')
    expect(message).toMatch(/check your jobs and billing/)
    expect(creates()).toBe(1)
    // The fake made (and billed) a job for the *-after-create and malformed kinds, none for the others.
    expect(fake.creates).toBe(kind.endsWith('-after-create') || kind === 'malformed' ? 1 : 0)
    await expectStore(s.vs, { entries: 0, journals: 0 })
    expect((await storeShape(storeOf(s.vs).dir)).uncertain).toHaveLength(1)
  })

  it('blocks later creates of an uncertain key until someone says --retry-uncertain', async () => {
    fake.fault({ kind: 'drop-after-create' })
    const s = await setup(1, { together: { requestTimeoutMs: 300 } })
    expect(failure((await s.build())[0]).code).toBe('PROVIDER_CREATE_UNCERTAIN')
    const key = (await s.vs.loadAll())[0]?.spec?.key ?? ''
    expect(await storeOf(s.vs).readUncertain(key)).toMatchObject({ key, provider: 'together' })
    // A later run (or a process that waited on the lock) does not pay again blindly.
    await s.reopen()
    const again = failure((await s.build())[0])
    expect(again.code).toBe('PROVIDER_CREATE_UNCERTAIN')
    expect(again.message).toMatch(/--retry-uncertain/)
    expect(fake.creates).toBe(1)
    const retried = await Vidspec.open({
      root: s.project.root,
      env: { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL },
      overrides: FAST,
      retryUncertain: true,
    })
    const [item] = (await retried.build()).items
    expect(item?.status, item?.error?.message).toBe('generated')
    expect(fake.creates).toBe(2)
    expect(await storeOf(retried).readUncertain(key)).toBeUndefined()
  })
})

describe('poll: failures never cost a second job', () => {
  const transient: Fault[] = [
    { kind: 'rate-limit', op: 'poll', retryAfterMs: 5, times: 2 },
    { kind: 'server-error', op: 'poll', times: 2 },
    { kind: 'unavailable', op: 'poll', times: 2 },
    { kind: 'drop', op: 'poll', times: 2 },
    { kind: 'malformed', op: 'poll', times: 2 },
    { kind: 'hang', op: 'poll', times: 1 },
  ]
  it.each(transient.map((f) => [f.kind, f] as const))('%s is retried', async (_kind, fault) => {
    fake.fault(fault)
    const s = await setup(1, { together: { requestTimeoutMs: 300 } })
    const [item] = await s.build()
    expect(item?.status, item?.error?.message).toBe('generated')
    expect(fake.creates).toBe(1)
    expect(retries(s.events)).toHaveLength(fault.times ?? 1)
    await expectStore(s.vs, { entries: 1, journals: 0 })
  })

  it('a 401 while polling keeps the journal; the next run resumes the paid job', async () => {
    fake.fault({ kind: 'auth', op: 'poll' })
    const s = await setup(1)
    const { code } = failure((await s.build())[0])
    expect(code).toBe('PROVIDER_AUTH')
    const [journal] = await journals(storeOf(s.vs).dir)
    expect(journal?.jobId).toBe(fake.jobs[0]?.id)
    await expectStore(s.vs, { entries: 0, journals: 1 })

    const [item] = await (await s.reopen()).build().then((r) => r.items)
    expect(item?.status).toBe('generated')
    expect(item?.entry?.jobId).toBe(journal?.jobId)
    expect(fake.creates).toBe(1)
    expect(s.events.some((e) => e.type === 'job:resumed' && e.jobId === journal?.jobId)).toBe(true)
    await expectStore(s.vs, { entries: 1, journals: 0 })
  })

  it('polls failing past the retries: PROVIDER_UNAVAILABLE, journal kept, resumed next run', async () => {
    fake.fault({ kind: 'server-error', op: 'poll', times: 5 })
    const s = await setup(1)
    const { code } = failure((await s.build())[0])
    expect(code).toBe('PROVIDER_UNAVAILABLE')
    await expectStore(s.vs, { entries: 0, journals: 1 })
    const [item] = (await (await s.reopen()).build()).items
    expect(item?.status).toBe('generated')
    expect(fake.creates).toBe(1)
  })

  it('a journal whose job the server does not know (404) is kept and reported; the job is never paid again', async () => {
    fake.fault({ kind: 'auth', op: 'poll' })
    const s = await setup(1)
    failure((await s.build())[0])
    await expectStore(s.vs, { entries: 0, journals: 1 })
    const [before] = await journals(storeOf(s.vs).dir)
    fake.reset()
    const { code, message } = failure((await (await s.reopen()).build()).items[0])
    expect(code).toBe('JOB_UNKNOWN')
    expect(message).toMatch(/not known to this key or base URL/)
    expect(message).toContain(before?.jobId ?? '?')
    expect(fake.creates).toBe(0)
    await expectStore(s.vs, { entries: 0, journals: 1 })
    expect(failure((await (await s.reopen()).build()).items[0]).code).toBe('JOB_UNKNOWN')
    expect(fake.creates).toBe(0)
  })
})

describe('jobs that end without a clip', () => {
  it('a failed job: JOB_FAILED with the provider reason; the journal is dropped so the next run may try again', async () => {
    fake.fault({ kind: 'job-fails', message: 'content policy violation', code: 'moderation' })
    const s = await setup(1)
    const { code, message } = failure((await s.build())[0])
    expect(code).toBe('JOB_FAILED')
    expect(message).toContain('content policy violation (moderation)')
    expect(message).toContain('clip-0.video.ts')
    expect(fake.creates).toBe(1)
    await expectStore(s.vs, { entries: 0, journals: 0 })
    const [item] = (await (await s.reopen()).build()).items
    expect(item?.status).toBe('generated')
    expect(fake.creates).toBe(2)
  })

  it('a cancelled job: JOB_FAILED saying so, nothing stored', async () => {
    fake.fault({ kind: 'job-cancelled' })
    const s = await setup(1)
    const { code, message } = failure((await s.build())[0])
    expect(code).toBe('JOB_FAILED')
    expect(message).toMatch(/cancelled/)
    expect(fake.creates).toBe(1)
    await expectStore(s.vs, { entries: 0, journals: 0 })
  })

  it('a job that never finishes: JOB_TIMEOUT keeps the journal; later runs resume it without paying again', async () => {
    fake.fault({ kind: 'job-never-finishes' })
    const s = await setup(1, { jobs: { jobTimeoutMs: 250 } })
    const { code, message } = failure((await s.build())[0])
    expect(code).toBe('JOB_TIMEOUT')
    expect(message).toMatch(/next build resumes it/)
    await expectStore(s.vs, { entries: 0, journals: 1 })
    expect(failure((await (await s.reopen()).build()).items[0]).code).toBe('JOB_TIMEOUT')
    expect(fake.creates).toBe(1)

    const job = fake.jobs[0]
    if (job) job.outcome = 'completed'
    const [item] = (await (await s.reopen()).build()).items
    expect(item?.status).toBe('generated')
    expect(item?.entry?.jobId).toBe(job?.id)
    expect(fake.creates).toBe(1)
    await expectStore(s.vs, { entries: 1, journals: 0 })
  })

  it('a job already completed in the create answer is downloaded without polling', async () => {
    fake.fault({ kind: 'job-duration', durationMs: 0 })
    const s = await setup(1)
    const [item] = await s.build()
    expect(item?.status).toBe('generated')
    expect(fake.polls).toBe(0)
    expect(fake.creates).toBe(1)
  })
})

describe('download: a broken transfer is fetched again, never stored', () => {
  const broken: Fault[] = [
    { kind: 'download-drop', afterBytes: 4096 },
    { kind: 'download-truncated' },
    { kind: 'download-wrong-length', delta: 100 },
    { kind: 'download-wrong-length', delta: -100 },
    { kind: 'download-expired' },
    { kind: 'download-error', status: 500 },
    { kind: 'download-error', status: 404 },
  ]
  it.each(broken.map((f) => [`${f.kind} ${JSON.stringify(f).slice(1, -1)}`, f] as const))('%s', async (_name, fault) => {
    const s = await setup(1)
    fake.fault({ ...fault, times: 2 } as Fault)
    const [item] = await s.build()
    expect(item?.status, item?.error?.message).toBe('generated')
    expect(fake.creates).toBe(1)
    expect(fake.downloads).toBe(3)
    expect(retries(s.events)).toHaveLength(2)
    // The stored object is the whole clip: the bytes the fake serves without a fault.
    expect(item?.entry?.digest).toBe(createHash('sha256').update(await clip(TINY_CLIP, 'MP4')).digest('hex'))
    await expectStore(s.vs, { entries: 1, journals: 0 })
  })

  it('a body cut inside trailing padding (which ffprobe does not notice) is caught by Content-Length', async () => {
    fake.options.largeResultBytes = 256 * 1024
    const s = await setup(1)
    fake.fault({ kind: 'download-wrong-length', delta: -100 })
    const [item] = await s.build()
    expect(item?.status, item?.error?.message).toBe('generated')
    expect(fake.downloads).toBe(2)
    expect(item?.entry?.size).toBe(256 * 1024)
    await expectStore(s.vs, { entries: 1, journals: 0 })
  })

  it('a stalled transfer is abandoned after jobs.downloadIdleTimeoutMs and fetched again', async () => {
    const s = await setup(1, { jobs: { downloadIdleTimeoutMs: 200 } })
    fake.fault({ kind: 'download-slow', chunkBytes: 4096, delayMs: 2_000 })
    const [item] = await s.build()
    expect(item?.status).toBe('generated')
    expect(item?.entry?.jobId).toBe(fake.jobs[0]?.id)
    expect(fake.downloads).toBe(2)
    expect(fake.creates).toBe(1)
    await expectStore(s.vs, { entries: 1, journals: 0 })
  })

  it('a slow transfer completes', async () => {
    const s = await setup(1)
    fake.fault({ kind: 'download-slow', chunkBytes: 8192, delayMs: 5 })
    const [item] = await s.build()
    expect(item?.status).toBe('generated')
    expect(fake.downloads).toBe(1)
  })

  it('downloads failing past the retries: DOWNLOAD_FAILED, journal kept, next run downloads without a new job', async () => {
    const s = await setup(1)
    fake.fault({ kind: 'download-error', status: 503, times: 5 })
    const { code, message } = failure((await s.build())[0])
    expect(code).toBe('DOWNLOAD_FAILED')
    expect(message).toMatch(/HTTP 503/)
    // The signed URL's query string never reaches a message.
    expect(message).not.toMatch(/\?/)
    await expectStore(s.vs, { entries: 0, journals: 1 })
    const [item] = (await (await s.reopen()).build()).items
    expect(item?.status).toBe('generated')
    expect(fake.creates).toBe(1)
    await expectStore(s.vs, { entries: 1, journals: 0 })
  })
})

describe('cancellation', () => {
  it('an abort while jobs run leaves no entry and keeps every journal; the next run finishes them for free', async () => {
    fake.options.jobDurationMs = 60_000
    const s = await setup(3)
    const controller = new AbortController()
    const building = s.build({ signal: controller.signal })
    await waitFor('three journals', async () => (await journals(storeOf(s.vs).dir)).length === 3)
    controller.abort()
    const items = await building
    for (const item of items) expect(failure(item).code).toBe('ABORTED')
    expect(fake.creates).toBe(3)
    await expectStore(s.vs, { entries: 0, journals: 3 })

    for (const job of fake.jobs) job.durationMs = 0
    const again = await (await s.reopen()).build()
    expect(again.counts.generated).toBe(3)
    expect(fake.creates).toBe(3)
    await expectStore(s.vs, { entries: 3, journals: 0 })
  })

  it('an abort mid-download leaves no partial object or temp file', async () => {
    const s = await setup(1)
    fake.fault({ kind: 'download-slow', chunkBytes: 1024, delayMs: 20 })
    const controller = new AbortController()
    const building = s.build({ signal: controller.signal })
    await waitFor('the download to start', () => fake.bytesServed > 0 || fake.downloads > 0)
    await new Promise((r) => setTimeout(r, 100))
    controller.abort()
    expect(failure((await building)[0]).code).toBe('ABORTED')
    await expectStore(s.vs, { entries: 0, journals: 1 })
    const [item] = (await (await s.reopen()).build()).items
    expect(item?.status).toBe('generated')
    expect(fake.creates).toBe(1)
  })

  it('one caller cancelling does not cancel the same clip for another caller in the process', async () => {
    fake.options.jobDurationMs = 400
    const s = await setup(1)
    const spec = await s.vs.load(s.project.path('clip-0.video.ts'))
    const controller = new AbortController()
    const quitter = s.vs.generate(spec, { signal: controller.signal }).then(
      () => 'finished',
      (err: { code?: string }) => err.code,
    )
    const stayer = s.vs.generate(spec, { signal: new AbortController().signal })
    await waitFor('the job to be created', () => fake.creates === 1)
    controller.abort()
    expect(await quitter).toBe('ABORTED')
    const { entry, generated } = await stayer
    expect(generated).toBe(true)
    expect(entry.jobId).toBe(fake.jobs[0]?.id)
    expect(fake.creates).toBe(1)
    await expectStore(s.vs, { entries: 1, journals: 0 })
  })

  it('an abort before anything started sends nothing', async () => {
    const s = await setup(2)
    const [a, b] = await s.build({ signal: AbortSignal.abort() })
    expect(failure(a).code).toBe('ABORTED')
    expect(failure(b).code).toBe('ABORTED')
    expect(creates()).toBe(0)
    await expectStore(s.vs, { entries: 0, journals: 0 })
  })
})
