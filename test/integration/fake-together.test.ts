import { execFile } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ffprobePath } from '../fake-together/clips.js'
import { hashBody, startFakeTogether, type FakeTogether } from '../fake-together/server.js'

const run = promisify(execFile)
const KEY = 'test-key'
const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }

let fake: FakeTogether
let clock = Date.now()
let dir: string

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: KEY, jobDurationMs: 300, urlTtlMs: 1000, now: () => clock })
  dir = await mkdtemp(join(tmpdir(), 'fake-together-'))
})
afterAll(async () => {
  await fake.close()
  await rm(dir, { recursive: true, force: true })
})
afterEach(() => {
  fake.reset()
  fake.options.maxConcurrentJobs = Infinity
})

async function create(body: unknown, prefix = '/v2', headers: Record<string, string> = auth) {
  const res = await fetch(`${fake.url}${prefix}/videos`, { method: 'POST', headers, body: JSON.stringify(body) })
  return { res, json: (await res.json()) as Record<string, unknown> & { error?: Record<string, unknown> } }
}

async function poll(id: string, prefix = '/v2') {
  const res = await fetch(`${fake.url}${prefix}/videos/${id}`, { headers: auth })
  return { res, json: (await res.json()) as Record<string, unknown> & { outputs?: { cost: number; video_url: string } } }
}

async function completedUrl(body: unknown = { model: 'm', prompt: 'p' }): Promise<{ id: string; url: string }> {
  const { json } = await create(body)
  clock += 1000
  const done = await poll(String(json.id))
  return { id: String(json.id), url: done.json.outputs!.video_url }
}

async function probe(file: string) {
  const { stdout } = await run(ffprobePath(), ['-v', 'error', '-show_entries', 'stream=width,height,codec_name', '-of', 'json', file])
  return (JSON.parse(stdout) as { streams: Array<{ width: number; height: number; codec_name: string }> }).streams[0]
}

async function save(res: Response, name: string): Promise<string> {
  const file = join(dir, name)
  await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(file))
  return file
}

describe('the API contract', () => {
  it('serves create and poll under /v2, /v1 and no prefix, as JSON', async () => {
    for (const prefix of ['/v2', '/v1', '']) {
      const { res, json } = await create({ model: 'minimax/hailuo-02', prompt: 'a forest', seconds: '6', width: 1366, height: 768 }, prefix)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toContain('application/json')
      expect(json).toMatchObject({ object: 'video', model: 'minimax/hailuo-02', status: 'queued', size: '1366x768', seconds: '6' })
      expect(json.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      expect(Number.isInteger(json.created_at)).toBe(true)
      expect((await poll(String(json.id), prefix)).json.status).toBe('queued')
    }
    expect(fake.jobs.map((j) => j.path)).toEqual(['/v2/videos', '/v1/videos', '/videos'])
  })

  it('moves jobs from queued through in_progress to completed on its clock', async () => {
    const { json } = await create({ model: 'm', prompt: 'p', seconds: '4' })
    const id = String(json.id)
    clock += 150
    expect((await poll(id)).json.status).toBe('in_progress')
    clock += 200
    const done = (await poll(id)).json
    expect(done).toMatchObject({ status: 'completed', outputs: { cost: 0.2 } })
    expect(typeof done.completed_at).toBe('number')
    expect(done.outputs?.video_url).toMatch(new RegExp(`^${fake.url}/shrt/[\\w-]+$`))
  })

  it('sizes Wan-style requests from resolution and ratio', async () => {
    expect((await create({ model: 'Wan-AI/wan2.7-t2v', prompt: 'p', resolution: '720P', ratio: '9:16' })).json.size).toBe('720x1280')
  })

  it('answers a bad key with the 401 envelope', async () => {
    for (const headers of [{ authorization: 'Bearer nope' }, {}] as Array<Record<string, string>>) {
      const { res, json } = await create({ model: 'm' }, '/v2', headers)
      expect(res.status).toBe(401)
      expect(json.error).toMatchObject({ code: 'invalid_api_key', type: 'invalid_request_error', param: null })
      expect(typeof json.error?.message).toBe('string')
    }
    expect(fake.creates).toBe(0)
  })

  it.each([
    [{ prompt: 'p' }, 'model'],
    [{ model: 'm', prompt: '' }, 'prompt'],
    [{ model: 'm', prompt: 'x'.repeat(32001) }, 'prompt'],
    [{ model: 'm', steps: 5 }, 'steps'],
    [{ model: 'm', steps: 51 }, 'steps'],
    [{ model: 'm', output_format: 'GIF' }, 'output_format'],
    [{ model: 'm', seconds: true }, 'seconds'],
    [{ model: 'm', media: { audio_inputs: ['./voice.mp3'] } }, 'media.audio_inputs[0]'],
    [{ model: 'm', media: { frame_images: [{ input_image: './first.png' }] } }, 'media.frame_images[0]'],
  ])('rejects %j with a 400 naming %s', async (body, param) => {
    const { res, json } = await create(body)
    expect(res.status).toBe(400)
    expect(json.error).toMatchObject({ type: 'invalid_request_error', param })
    expect(fake.creates).toBe(0)
  })

  it('accepts numeric seconds and inline images', async () => {
    const png = `data:image/png;base64,${Buffer.from('not really a png').toString('base64')}`
    const { res, json } = await create({ model: 'm', seconds: 6, media: { frame_images: [{ input_image: png }], reference_images: ['https://x.example/r.png'] } })
    expect(res.status).toBe(200)
    expect(json.seconds).toBe('6')
  })

  it('answers 404 for an unknown job id', async () => {
    const { res, json } = await poll('01a00000-0000-7000-8000-000000000000')
    expect(res.status).toBe(404)
    expect(json.error).toMatchObject({ type: 'invalid_request_error' })
  })

  it('marks failed jobs with an error and null outputs', async () => {
    fake.fault({ kind: 'job-fails', message: 'Unsupported parameter', code: 'unsupportedParameter' })
    const { json } = await create({ model: 'm', prompt: 'p' })
    clock += 1000
    expect((await poll(String(json.id))).json).toMatchObject({
      status: 'failed',
      error: { message: 'Unsupported parameter', code: 'unsupportedParameter' },
      outputs: null,
    })
  })

  it('can answer a create already completed, and keep a job running forever', async () => {
    fake.fault({ kind: 'job-duration', durationMs: 0 })
    expect((await create({ model: 'm', prompt: 'p' })).json).toMatchObject({ status: 'completed', outputs: { cost: 0.25 } })
    fake.fault({ kind: 'job-never-finishes' })
    const { json } = await create({ model: 'm', prompt: 'q' })
    clock += 10 * 60_000
    expect((await poll(String(json.id))).json.status).toBe('in_progress')
  })

  it('can report ISO timestamps', async () => {
    const iso = await startFakeTogether({ isoTimestamps: true })
    try {
      const res = await fetch(`${iso.baseURL}/videos`, { method: 'POST', headers: auth, body: '{"model":"m"}' })
      expect(((await res.json()) as { created_at: unknown }).created_at).toMatch(/^\d{4}-\d\d-\d\dT/)
    } finally {
      await iso.close()
    }
  })
})

describe('results', () => {
  it('redirects the short link to a real, playable clip', async () => {
    const { url } = await completedUrl()
    const hop = await fetch(url, { redirect: 'manual' })
    expect(hop.status).toBe(302)
    expect(hop.headers.get('location')).toMatch(new RegExp(`^${fake.url}/files/[\\w-]+\\.mp4$`))
    const res = await fetch(url)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('video/mp4')
    const length = Number(res.headers.get('content-length'))
    const file = await save(res, 'clip.mp4')
    expect((await stat(file)).size).toBe(length)
    expect(await probe(file)).toMatchObject({ width: 160, height: 90, codec_name: 'h264' })
  })

  it('serves WEBM when asked', async () => {
    const { url } = await completedUrl({ model: 'm', prompt: 'p', output_format: 'WEBM' })
    const res = await fetch(url)
    expect(res.headers.get('content-type')).toBe('video/webm')
    expect(await probe(await save(res, 'clip.webm'))).toMatchObject({ codec_name: 'vp8' })
  })

  it('sends sound when a create asks for generate_audio (AAC in MP4, Opus in WebM), and none otherwise', async () => {
    const codecs = async (body: Record<string, unknown>, name: string) => {
      const file = await save(await fetch((await completedUrl({ model: 'm', prompt: 'p', ...body })).url), name)
      const { stdout } = await run(ffprobePath(), ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name', '-of', 'json', file])
      return (JSON.parse(stdout) as { streams: Array<{ codec_type: string; codec_name: string }> }).streams.map((s) => `${s.codec_type}:${s.codec_name}`)
    }
    expect(await codecs({ generate_audio: true }, 'sound.mp4')).toEqual(['video:h264', 'audio:aac'])
    expect(await codecs({ generate_audio: true, output_format: 'WEBM' }, 'sound.webm')).toEqual(['video:vp8', 'audio:opus'])
    expect(await codecs({ generate_audio: false }, 'silent.mp4')).toEqual(['video:h264'])
  })

  it('expires result URLs, and a new poll hands out a fresh one', async () => {
    const { id, url } = await completedUrl()
    clock += 1001
    for (const target of [url, url.replace('/shrt/', '/files/') + '.mp4']) {
      const res = await fetch(target)
      expect(res.status).toBe(403)
      expect(await res.text()).toContain('expired')
    }
    const fresh = (await poll(id)).json.outputs!.video_url
    expect(fresh).not.toBe(url)
    expect((await fetch(fresh)).status).toBe(200)
    fake.expireUrls()
    expect((await fetch(fresh)).status).toBe(403)
  })
})

describe('counters', () => {
  it('counts creates by body and prompt, polls, downloads and requests by route', async () => {
    await create({ model: 'm', prompt: 'a', seed: 1 })
    await create({ seed: 1, prompt: 'a', model: 'm' })
    await create({ model: 'm', prompt: 'b' })
    expect(fake.creates).toBe(3)
    expect(fake.createsByBody.get(hashBody({ prompt: 'a', model: 'm', seed: 1 }))).toBe(2)
    expect(fake.createsByPrompt.get('b')).toBe(1)
    expect(fake.jobs[1]?.body).toEqual({ seed: 1, prompt: 'a', model: 'm' })
    const { url } = await completedUrl()
    await (await fetch(url)).arrayBuffer()
    expect(fake.polls).toBe(1)
    expect(fake.downloads).toBe(1)
    expect(fake.redirects).toBe(1)
    expect(fake.downloadsWithAuth).toBe(0)
    expect(Object.fromEntries(fake.requests)).toEqual({
      'POST /videos': 4,
      'GET /videos/:id': 1,
      'GET /shrt/:token': 1,
      'GET /files/:file': 1,
    })
    expect(fake.bytesServed).toBeGreaterThan(1000)
    await (await fetch(url, { headers: { authorization: `Bearer ${KEY}` } })).arrayBuffer()
    expect(fake.downloadsWithAuth).toBe(2)
  })

  it('tracks jobs in flight and the most seen at once', async () => {
    await create({ model: 'm', prompt: '1' })
    await create({ model: 'm', prompt: '2' })
    expect(fake.inFlight).toBe(2)
    clock += 1000
    expect(fake.inFlight).toBe(0)
    await create({ model: 'm', prompt: '3' })
    expect(fake.maxInFlight).toBe(2)
  })

  it('limits concurrent jobs with a 429 that says when to come back', async () => {
    fake.options.maxConcurrentJobs = 2
    await create({ model: 'm', prompt: '1' })
    clock += 100
    await create({ model: 'm', prompt: '2' })
    const { res, json } = await create({ model: 'm', prompt: '3' })
    expect(res.status).toBe(429)
    expect(json.error).toMatchObject({ type: 'dynamic_request_limited' })
    expect(res.headers.get('retry-after-ms')).toBe('200')
    expect(res.headers.get('retry-after')).toBe('1')
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(fake.creates).toBe(2)
    clock += 200
    expect((await create({ model: 'm', prompt: '3' })).res.status).toBe(200)
    expect(fake.maxInFlight).toBe(2)
  })

  it('reset() forgets jobs, counters and faults', async () => {
    fake.fault({ kind: 'server-error', times: 5 })
    await create({ model: 'm' })
    fake.reset()
    expect([fake.creates, fake.jobs.length, fake.requests.size, fake.pendingFaults().length]).toEqual([0, 0, 0, 0])
    expect((await create({ model: 'm' })).res.status).toBe(200)
  })
})

describe('request faults', () => {
  it('429 with retry-after or retry-after-ms, on create or poll', async () => {
    fake.fault({ kind: 'rate-limit', retryAfterMs: 250 }).fault({ kind: 'rate-limit', op: 'poll', retryAfterS: 2 })
    const first = await create({ model: 'm' })
    expect(first.res.status).toBe(429)
    expect(first.res.headers.get('retry-after-ms')).toBe('250')
    expect(first.res.headers.get('retry-after')).toBeNull()
    expect(first.json.error).toMatchObject({ type: 'dynamic_request_limited' })
    const ok = await create({ model: 'm' })
    expect(ok.res.status).toBe(200)
    const polled = await poll(String(ok.json.id))
    expect(polled.res.status).toBe(429)
    expect(polled.res.headers.get('retry-after')).toBe('2')
    expect(fake.creates).toBe(1)
    expect(fake.faultsFired.map((f) => [f.kind, f.op])).toEqual([['rate-limit', 'create'], ['rate-limit', 'poll']])
  })

  it.each([
    [{ kind: 'server-error' } as const, 500],
    [{ kind: 'unavailable', retryAfterS: 1 } as const, 503],
    [{ kind: 'payment' } as const, 402],
    [{ kind: 'auth' } as const, 401],
    [{ kind: 'http-error', status: 422, message: 'unsafe content' } as const, 422],
  ])('%j answers %i with the JSON envelope and creates nothing', async (fault, status) => {
    fake.fault(fault)
    const { res, json } = await create({ model: 'm' })
    expect(res.status).toBe(status)
    expect(typeof json.error?.message).toBe('string')
    expect(fake.creates).toBe(0)
  })

  it('honours times and match', async () => {
    fake.fault({ kind: 'server-error', times: 2, match: { prompt: /^boom/ } })
    expect((await create({ model: 'm', prompt: 'fine' })).res.status).toBe(200)
    expect((await create({ model: 'm', prompt: 'boom 1' })).res.status).toBe(500)
    expect((await create({ model: 'm', prompt: 'boom 2' })).res.status).toBe(500)
    expect((await create({ model: 'm', prompt: 'boom 3' })).res.status).toBe(200)
  })

  it('drop: the connection dies and no job is made', async () => {
    fake.fault({ kind: 'drop' })
    await expect(create({ model: 'm' })).rejects.toThrow()
    expect(fake.creates).toBe(0)
  })

  it('drop-after-create: the connection dies after the job was made', async () => {
    fake.fault({ kind: 'drop-after-create' })
    await expect(create({ model: 'm', prompt: 'paid' })).rejects.toThrow()
    expect(fake.creates).toBe(1)
    expect(fake.createsByPrompt.get('paid')).toBe(1)
  })

  it('hang and hang-after-create never answer', async () => {
    fake.fault({ kind: 'hang-after-create' })
    const hung = fetch(`${fake.baseURL}/videos`, { method: 'POST', headers: auth, body: '{"model":"m"}', signal: AbortSignal.timeout(200) })
    await expect(hung).rejects.toThrow(/abort|timeout/i)
    expect(fake.creates).toBe(1)
    fake.fault({ kind: 'hang', op: 'poll' })
    const polled = fetch(`${fake.baseURL}/videos/${fake.jobs[0]!.id}`, { headers: auth, signal: AbortSignal.timeout(200) })
    await expect(polled).rejects.toThrow(/abort|timeout/i)
  })

  it('malformed: a 200 that is not JSON', async () => {
    fake.fault({ kind: 'malformed' })
    const res = await fetch(`${fake.baseURL}/videos`, { method: 'POST', headers: auth, body: '{"model":"m"}' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html')
    expect(fake.creates).toBe(1)
  })

  it('close() ends hung requests', async () => {
    const own = await startFakeTogether()
    own.fault({ kind: 'hang' })
    const hung = fetch(`${own.baseURL}/videos`, { method: 'POST', headers: auth, body: '{"model":"m"}' })
    await new Promise((r) => setTimeout(r, 50))
    await own.close()
    await expect(hung).rejects.toThrow()
  })
})

describe('download faults', () => {
  it('download-drop resets the connection mid-body', async () => {
    const { url } = await completedUrl()
    fake.fault({ kind: 'download-drop', afterBytes: 1000 })
    const res = await fetch(url)
    expect(res.status).toBe(200)
    await expect(res.arrayBuffer()).rejects.toThrow()
  })

  it('download-truncated ends cleanly short of Content-Length', async () => {
    const { url } = await completedUrl()
    fake.fault({ kind: 'download-truncated', bytes: 500 })
    const res = await fetch(url)
    await expect(res.arrayBuffer()).rejects.toThrow()
  })

  it('download-wrong-length says less or more than it sends', async () => {
    const { url } = await completedUrl()
    const full = Number((await fetch(url, { method: 'HEAD' })).headers.get('content-length'))
    fake.fault({ kind: 'download-wrong-length', delta: -100 })
    const short = await fetch(url)
    expect(Number(short.headers.get('content-length'))).toBe(full - 100)
    expect((await short.arrayBuffer()).byteLength).toBe(full - 100)
    fake.fault({ kind: 'download-wrong-length', delta: 100 })
    await expect((await fetch(url)).arrayBuffer()).rejects.toThrow()
  })

  it('download-slow trickles the body', async () => {
    const { url } = await completedUrl()
    fake.fault({ kind: 'download-slow', chunkBytes: 8192, delayMs: 40 })
    const started = Date.now()
    const res = await fetch(url)
    const bytes = (await res.arrayBuffer()).byteLength
    expect(bytes).toBe(Number(res.headers.get('content-length')))
    expect(Date.now() - started).toBeGreaterThanOrEqual(40 * Math.floor(bytes / 8192))
  })

  it('download-expired and download-error', async () => {
    const { url } = await completedUrl()
    fake.fault({ kind: 'download-expired' }).fault({ kind: 'download-error', status: 500 })
    expect((await fetch(url)).status).toBe(403)
    expect((await fetch(url)).status).toBe(500)
    expect((await fetch(url)).status).toBe(200)
  })

  it('download-large streams a padded MP4 that ffprobe accepts', async () => {
    const { url } = await completedUrl()
    const bytes = 48 * 1024 * 1024
    fake.fault({ kind: 'download-large', bytes })
    const res = await fetch(url)
    expect(Number(res.headers.get('content-length'))).toBe(bytes)
    const file = await save(res, 'large.mp4')
    expect((await stat(file)).size).toBe(bytes)
    expect(await probe(file)).toMatchObject({ width: 160, height: 90 })
    await rm(file)
  })
})
