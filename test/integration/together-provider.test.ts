import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { VidspecError } from '../../packages/core/src/errors.js'
import { togetherProvider } from '../../packages/core/src/providers/together.js'
import type { ProviderRequest, RemoteProvider } from '../../packages/core/src/providers/types.js'
import type { NormalizedRequest, ResolvedMedia } from '../../packages/core/src/types.js'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'

const KEY = 'tg-live-0123456789abcdef0123456789abcdef'
let fake: FakeTogether
let clock = Date.now()
let dir: string
let provider: RemoteProvider

const ctx = {}
const request = (over: Partial<NormalizedRequest> = {}): NormalizedRequest => ({
  model: 'minimax/hailuo-02',
  prompt: 'a forest at dawn',
  seconds: '6',
  width: 160,
  height: 90,
  ...over,
})
const req = (r: NormalizedRequest = request(), media: Array<[string, ResolvedMedia]> = []): ProviderRequest => ({
  key: 'k'.repeat(64),
  request: r,
  media: new Map(media),
  spec: 'hero.video.ts',
})

function failure(promise: Promise<unknown>): Promise<VidspecError> {
  return promise.then(
    () => {
      throw new Error('expected a failure')
    },
    (err: VidspecError) => err,
  )
}

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: KEY, jobDurationMs: 300, urlTtlMs: 5_000, now: () => clock })
  provider = togetherProvider({ apiKey: KEY, baseURL: fake.baseURL })
  dir = await mkdtemp(join(tmpdir(), 'together-provider-'))
})
afterAll(async () => {
  await fake.close()
  await rm(dir, { recursive: true, force: true })
})
afterEach(() => fake.reset())

describe('create and poll against the fake over HTTP', () => {
  it('runs a job to completion under /v2', async () => {
    expect(provider.id).toBe('together')
    const created = await provider.create(req(), ctx)
    expect(created).toMatchObject({ status: 'queued', videoUrl: undefined })
    expect(fake.jobs[0]?.body).toEqual(request())
    clock += 150
    expect((await provider.poll(created.id, ctx)).status).toBe('in_progress')
    clock += 200
    const done = await provider.poll(created.id, ctx)
    expect(done).toMatchObject({ id: created.id, status: 'completed', cost: 0.3 })
    expect(done.videoUrl).toMatch(/\/shrt\//)
    expect(fake.log.map((r) => r.path)).toEqual(['/v2/videos', `/v2/videos/${created.id}`, `/v2/videos/${created.id}`])
    // The runner downloads with these headers: the key must not travel to the result host.
    expect(provider.downloadHeaders?.(done.videoUrl!)).toEqual({})
    const res = await fetch(done.videoUrl!, { headers: provider.downloadHeaders?.(done.videoUrl!) })
    expect(res.headers.get('content-type')).toBe('video/mp4')
    expect((await res.arrayBuffer()).byteLength).toBe(Number(res.headers.get('content-length')))
    expect(fake.downloadsWithAuth).toBe(0)
  })

  it('uses a custom base URL as given', async () => {
    const custom = togetherProvider({ apiKey: KEY, baseURL: fake.url })
    const job = await custom.create(req(), ctx)
    await custom.poll(job.id, ctx)
    expect(fake.log.map((r) => r.path)).toEqual(['/videos', `/videos/${job.id}`])
  })

  it('sends the API key only as a bearer token, and never retries a create on its own', async () => {
    fake.fault({ kind: 'unavailable', retryAfterS: 0 })
    await failure(provider.create(req(), ctx))
    expect(fake.requests.get('POST /videos')).toBe(1)
    await provider.create(req(), ctx)
    expect(fake.requests.get('POST /videos')).toBe(2)
    // The fake accepts the key only as `Authorization: Bearer`; nowhere else does it appear.
    expect(JSON.stringify(fake.jobs[0]?.headers)).not.toContain(KEY)
    expect(fake.jobs[0]?.headers).toMatchObject({ 'content-type': 'application/json', accept: 'application/json' })
  })

  it('returns a create that is already terminal', async () => {
    fake.fault({ kind: 'job-duration', durationMs: 0 })
    expect(await provider.create(req(), ctx)).toMatchObject({ status: 'completed', cost: 0.3 })
  })

  it('reports a failed job with its error', async () => {
    fake.fault({ kind: 'job-fails', message: "Unsupported use of 'negative_prompt'", code: 'unsupportedParameter' })
    const job = await provider.create(req(), ctx)
    clock += 1000
    expect(await provider.poll(job.id, ctx)).toMatchObject({
      status: 'failed',
      error: { message: "Unsupported use of 'negative_prompt'", code: 'unsupportedParameter' },
      videoUrl: undefined,
    })
  })

  it('reads ISO timestamps too', async () => {
    const iso = await startFakeTogether({ apiKey: KEY, isoTimestamps: true, jobDurationMs: 0 })
    try {
      const job = await togetherProvider({ apiKey: KEY, baseURL: iso.baseURL }).create(req(), ctx)
      expect(job.status).toBe('completed')
    } finally {
      await iso.close()
    }
  })

  it('gets a fresh result URL from a poll after the old one expired, through the redirect', async () => {
    const job = await provider.create(req(), ctx)
    clock += 1000
    const first = await provider.poll(job.id, ctx)
    clock += 5_001
    expect((await fetch(first.videoUrl!)).status).toBe(403)
    const again = await provider.poll(job.id, ctx)
    expect(again.videoUrl).not.toBe(first.videoUrl)
    const res = await fetch(again.videoUrl!)
    expect(res.status).toBe(200)
    expect(res.redirected).toBe(true)
    expect(res.url).toMatch(/\/files\/[\w-]+\.mp4$/)
  })
})

describe('media', () => {
  it('sends a local image as a data URI', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001', 'hex')
    await writeFile(join(dir, 'first.png'), png)
    const sha256 = createHash('sha256').update(png).digest('hex')
    const r = request({ media: { frame_images: [{ input_image: './first.png', frame: 'first' }] } })
    await provider.create(req(r, [['./first.png', { kind: 'file', ref: './first.png', path: join(dir, 'first.png'), sha256, mime: 'image/png' }]]), ctx)
    const sent = fake.jobs[0]?.body as { media: { frame_images: Array<{ input_image: string; frame: string }> } }
    expect(sent.media.frame_images[0]).toEqual({ input_image: `data:image/png;base64,${png.toString('base64')}`, frame: 'first' })
  })

  it('rejects a local audio file in check() and before any request in create()', async () => {
    const r = request({ model: 'Wan-AI/wan2.7-t2v', media: { audio_inputs: ['./voice.mp3'] } })
    const media: Array<[string, ResolvedMedia]> = [
      ['./voice.mp3', { kind: 'file', ref: './voice.mp3', path: join(dir, 'voice.mp3'), sha256: 'a'.repeat(64), mime: 'audio/mpeg' }],
    ]
    const issues = provider.check?.(req(r, media)) ?? []
    expect(issues).toEqual([
      { path: 'media.audio_inputs[0]', value: '"./voice.mp3"', message: expect.stringMatching(/^a local audio file reaches Together only as a URL: set `remote` in the vidspec config/) },
    ])
    const err = await failure(provider.create(req(r, media), ctx))
    expect(err).toMatchObject({ code: 'SPEC_INVALID', retryable: false })
    expect(err.message).toContain('media.audio_inputs[0]')
    expect(fake.requests.size).toBe(0)
  })
})

describe('errors', () => {
  it('401: says how to set the key and never shows it', async () => {
    const wrong = togetherProvider({ apiKey: 'tg-wrong-key-9876543210', baseURL: fake.baseURL })
    for (const err of [await failure(wrong.create(req(), ctx)), await failure(wrong.poll('x', ctx))]) {
      expect(err).toMatchObject({ code: 'PROVIDER_AUTH', retryable: false, status: 401 })
      expect(err.message).toContain('TOGETHER_API_KEY')
      expect(err.message).not.toContain('tg-wrong-key-9876543210')
    }
    fake.fault({ kind: 'auth' })
    const err = await failure(provider.create(req(), ctx))
    expect(err.message).not.toContain(KEY)
  })

  it('402: out of credits', async () => {
    fake.fault({ kind: 'payment' })
    expect(await failure(provider.create(req(), ctx))).toMatchObject({ code: 'PROVIDER_PAYMENT', retryable: false, status: 402 })
  })

  it("400: the server's message", async () => {
    // Normalization would never let this through; the server's own check must still surface.
    const err = await failure(provider.create(req(request({ steps: 5 })), ctx))
    expect(err).toMatchObject({ code: 'PROVIDER_BAD_REQUEST', retryable: false, status: 400, file: 'hero.video.ts' })
    expect(err.message).toContain('steps must be an integer between 10 and 50')
  })

  it('429: retryable, with the wait from retry-after-ms or retry-after', async () => {
    fake.fault({ kind: 'rate-limit', retryAfterMs: 1500, retryAfterS: 9 })
    expect(await failure(provider.create(req(), ctx))).toMatchObject({ code: 'PROVIDER_RATE_LIMITED', retryable: true, retryAfterMs: 1500 })
    fake.fault({ kind: 'rate-limit', op: 'poll', retryAfterS: 2 })
    expect(await failure(provider.poll('any', ctx))).toMatchObject({ code: 'PROVIDER_RATE_LIMITED', retryable: true, retryAfterMs: 2000 })
    expect(fake.creates).toBe(0)
  })

  it('429 from the concurrency limit', async () => {
    fake.options.maxConcurrentJobs = 1
    try {
      await provider.create(req(), ctx)
      const err = await failure(provider.create(req(), ctx))
      expect(err).toMatchObject({ code: 'PROVIDER_RATE_LIMITED', retryable: true, retryAfterMs: 300 })
    } finally {
      fake.options.maxConcurrentJobs = Infinity
    }
  })

  it.each([
    ['server-error', 500],
    ['unavailable', 503],
  ] as const)('%s (%i) is retryable for a poll; for a create only the 503 with the API error body is', async (kind, status) => {
    fake.fault({ kind, retryAfterS: 1 })
    const created = await failure(provider.create(req(), ctx))
    if (status === 503) expect(created).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true, status, retryAfterMs: 1000 })
    else expect(created).toMatchObject({ code: 'PROVIDER_CREATE_UNCERTAIN', retryable: false, status })
    fake.fault({ kind, op: 'poll' })
    expect(await failure(provider.poll('any', ctx))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true, status })
  })

  it('404 on poll: the job is unknown', async () => {
    expect(await failure(provider.poll('01a00000-0000-7000-8000-000000000000', ctx))).toMatchObject({
      code: 'JOB_UNKNOWN',
      retryable: false,
      status: 404,
    })
  })

  it('connection refused: nothing was sent, so a create may be retried', async () => {
    const down = togetherProvider({ apiKey: KEY, baseURL: `http://127.0.0.1:${await closedPort()}/v2` })
    const err = await failure(down.create(req(), ctx))
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true })
    expect(err.message).toContain('ECONNREFUSED')
    expect(await failure(down.poll('x', ctx))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true })
  })

  it('a create whose connection dies after the job was made is uncertain, never retried', async () => {
    fake.fault({ kind: 'drop-after-create' })
    const err = await failure(provider.create(req(), ctx))
    expect(err).toMatchObject({ code: 'PROVIDER_CREATE_UNCERTAIN', retryable: false })
    expect(err.message).toMatch(/may have started/)
    expect(err.message).not.toContain(KEY)
    expect(fake.creates).toBe(1)
  })

  it('a create that times out after sending is uncertain too', async () => {
    fake.fault({ kind: 'hang-after-create' })
    const impatient = togetherProvider({ apiKey: KEY, baseURL: fake.baseURL, requestTimeoutMs: 200 })
    expect(await failure(impatient.create(req(), ctx))).toMatchObject({ code: 'PROVIDER_CREATE_UNCERTAIN', retryable: false })
    expect(fake.creates).toBe(1)
  })

  it('a create answered with something that is not a job is uncertain', async () => {
    fake.fault({ kind: 'malformed' })
    expect(await failure(provider.create(req(), ctx))).toMatchObject({ code: 'PROVIDER_CREATE_UNCERTAIN', retryable: false })
  })

  it('a poll that dies, hangs or gets garbage is retryable', async () => {
    const impatient = togetherProvider({ apiKey: KEY, baseURL: fake.baseURL, requestTimeoutMs: 200 })
    const job = await impatient.create(req(), ctx)
    for (const kind of ['drop', 'hang', 'malformed'] as const) {
      fake.fault({ kind, op: 'poll' })
      expect(await failure(impatient.poll(job.id, ctx))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true })
    }
  })

  it('an abort is ABORTED', async () => {
    fake.fault({ kind: 'hang', op: 'poll' })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    expect(await failure(provider.poll('any', { signal: controller.signal }))).toMatchObject({ code: 'ABORTED' })
    expect(await failure(provider.create(req(), { signal: controller.signal }))).toMatchObject({ code: 'ABORTED' })
    expect(fake.requests.get('POST /videos')).toBeUndefined()
  })
})

describe('estimateCost', () => {
  it('prices the models Together publishes prices for', () => {
    expect(provider.estimateCost?.(req(request({ model: 'ByteDance/Seedance-2.0', width: undefined, height: undefined, resolution: '720P', seconds: '5' })))).toBeCloseTo(0.8)
    expect(provider.estimateCost?.(req())).toBeUndefined()
  })
})
