import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import Together, { APIConnectionTimeoutError, APIUserAbortError } from 'together-ai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RequestNotSentError, mapTogetherError } from './together-errors.js'
import { createJob, retrieveJob } from './together-requests.js'

// A poll and a create skip the SDK's request machinery (issue 17): they must still send what the SDK
// sends and answer, or fail, exactly as `client.videos.retrieve` and `client.videos.create` do, since
// the error mapping reads the SDK's errors; and a create must tell a failure that sent nothing from
// one that may have started a paid job.

const KEY = 'tg-test-0123456789abcdef'
type Answer = (res: ServerResponse) => void
const answers = new Map<string, Answer>()
const seen: Array<{ method?: string; url: string; auth: string | undefined; accept: string | undefined; type?: string | undefined; body?: string }> = []
const closed: string[] = []
let server: Server
let baseURL: string

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      seen.push(
        req.method === 'POST'
          ? { method: 'POST', url: req.url ?? '', auth: req.headers.authorization, accept: req.headers.accept, type: req.headers['content-type'], body }
          : { url: req.url ?? '', auth: req.headers.authorization, accept: req.headers.accept },
      )
      // A response closes before it was ended only when its connection went.
      res.once('close', () => res.writableEnded || closed.push(req.url ?? ''))
      const answer = answers.get(req.url?.split('/').pop() ?? '')
      if (answer) answer(res)
      else res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'Video ID not found.' } }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseURL = `http://127.0.0.1:${(server.address() as { port: number }).port}/v2`
})
afterAll(() => {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(resolve))
})

const send = (status: number, type: string | undefined, body: string, headers: Record<string, string> = {}): Answer => (res) => {
  res.writeHead(status, { ...(type ? { 'content-type': type } : {}), ...headers })
  res.end(body)
}

const ANSWERS: Array<[string, Answer]> = [
  ['ok-json', send(200, 'application/json', JSON.stringify({ id: 'ok-json', status: 'in_progress' }))],
  ['ok-json-charset', send(200, 'application/json; charset=utf-8', JSON.stringify({ id: 'x', status: 'completed', outputs: { video_url: 'https://v/x.mp4' } }))],
  ['ok-vendor-json', send(200, 'application/vnd.api+json', '{"id":"v","status":"queued"}')],
  ['ok-text', send(200, 'text/plain', 'all good')],
  ['ok-untyped', send(200, undefined, '{"id":"u"}')],
  ['ok-empty-json', send(200, 'application/json', '')],
  ['no-content', send(204, undefined, '')],
  ['bad-json', send(200, 'application/json', '{"id": "tr')],
  ['gone', send(404, 'application/json', JSON.stringify({ error: { message: 'Video ID not found.', type: 'invalid_request_error' } }))],
  ['limited', send(429, 'application/json', JSON.stringify({ error: { message: 'slow down' } }), { 'retry-after': '3' })],
  ['gateway', send(502, 'text/html', '<html><body>Bad Gateway</body></html>')],
  ['empty-500', send(500, undefined, '')],
  ['conflict', send(409, 'application/json', JSON.stringify({ message: 'busy' }))],
  ['teapot', send(418, 'text/plain', 'short and stout')],
]

/** What a call gave, in the terms the error mapping reads. */
async function outcome(call: Promise<unknown>): Promise<unknown> {
  try {
    return { value: await call }
  } catch (err) {
    const e = err as { status?: unknown; error?: unknown; message: string; headers?: Headers }
    return { class: (err as object).constructor.name, status: e.status, error: e.error, message: e.message, retryAfter: e.headers?.get('retry-after') ?? null }
  }
}

describe('a poll without the SDK', () => {
  it('answers and fails as client.videos.retrieve does', async () => {
    const sdk = new Together({ apiKey: KEY, baseURL, maxRetries: 0 })
    for (const [id, answer] of ANSWERS) answers.set(id, answer)
    for (const [id] of ANSWERS) {
      const ours = await outcome(retrieveJob(baseURL, id, { apiKey: KEY, timeoutMs: 5000 }))
      const theirs = await outcome(sdk.videos.retrieve(id))
      expect(ours, id).toEqual(theirs)
    }
  })

  it('sends the key as a bearer token, asks for JSON, and escapes the id into one segment', async () => {
    seen.length = 0
    await retrieveJob(`${baseURL}/`, 'a/b?c d', { apiKey: KEY, timeoutMs: 5000 }).catch(() => {})
    expect(seen).toEqual([{ url: '/v2/videos/a%2Fb%3Fc%20d', auth: `Bearer ${KEY}`, accept: 'application/json' }])
  })

  it('never sends an id that would name another path', async () => {
    seen.length = 0
    for (const id of ['..', '.', '']) {
      await expect(retrieveJob(baseURL, id, { apiKey: KEY, timeoutMs: 5000 })).rejects.toThrow('is not a job id')
    }
    expect(seen).toEqual([])
  })

  it('times out as the SDK does, and lets the connection go', async () => {
    answers.set('hangs', () => {})
    closed.length = 0
    const err = await retrieveJob(baseURL, 'hangs', { apiKey: KEY, timeoutMs: 150 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(APIConnectionTimeoutError)
    await expect.poll(() => closed).toContain('/v2/videos/hangs')
  })

  it('stops at once on an abort, and removes its listener from the signal it was given', async () => {
    answers.set('hangs', () => {})
    const controller = new AbortController()
    let listeners = 0
    const add = controller.signal.addEventListener.bind(controller.signal)
    const remove = controller.signal.removeEventListener.bind(controller.signal)
    controller.signal.addEventListener = ((...args: Parameters<typeof add>) => (listeners++, add(...args))) as typeof add
    controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => (listeners--, remove(...args))) as typeof remove
    answers.set('quick', send(200, 'application/json', '{"id":"quick","status":"queued"}'))
    await retrieveJob(baseURL, 'quick', { apiKey: KEY, timeoutMs: 5000, signal: controller.signal })
    expect(listeners).toBe(0)
    const pending = retrieveJob(baseURL, 'hangs', { apiKey: KEY, timeoutMs: 60_000, signal: controller.signal })
    setTimeout(() => controller.abort(new Error('stop')), 50)
    await expect(pending).rejects.toBeInstanceOf(APIUserAbortError)
    expect(listeners).toBe(0)
  })
})

const BODY = { model: 'minimax/hailuo-02', prompt: 'a harbour at dawn', width: 1366, height: 768, seconds: '6' }

describe('a create without the SDK', () => {
  it('answers and fails as client.videos.create does', async () => {
    const sdk = new Together({ apiKey: KEY, baseURL, maxRetries: 0 })
    for (const [id, answer] of ANSWERS) {
      answers.set('videos', answer)
      const ours = await outcome(createJob(baseURL, BODY, { apiKey: KEY, timeoutMs: 5000 }))
      const theirs = await outcome(sdk.videos.create(BODY))
      expect(ours, id).toEqual(theirs)
    }
  })

  it('posts the body as JSON with the key as a bearer token, once, even when refused', async () => {
    answers.set('videos', send(503, 'application/json', JSON.stringify({ error: { message: 'busy' } }), { 'retry-after': '0' }))
    seen.length = 0
    await createJob(`${baseURL}/`, BODY, { apiKey: KEY, timeoutMs: 5000 }).catch(() => {})
    expect(seen).toEqual([{ method: 'POST', url: '/v2/videos', auth: `Bearer ${KEY}`, accept: 'application/json', type: 'application/json', body: JSON.stringify(BODY) }])
  })

  const ctx = { op: 'create' as const, apiKey: KEY, baseURL: 'http://x', spec: 'hero.video.ts' }

  it('a connection never made is a create not sent: trying again is safe', async () => {
    const gone = createServer()
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve))
    const port = (gone.address() as { port: number }).port
    await new Promise((resolve) => gone.close(resolve))
    const err = await createJob(`http://127.0.0.1:${port}/v2`, BODY, { apiKey: KEY, timeoutMs: 5000 }).catch((e: unknown) => e)
    expect((err as Error).cause).toBeInstanceOf(RequestNotSentError)
    expect(mapTogetherError(err, ctx)).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true })
  })

  it('a connection lost once the create arrived, or no answer in time, may have started a job: uncertain', async () => {
    answers.set('videos', (res) => res.socket?.destroy())
    seen.length = 0
    const dropped = await createJob(baseURL, BODY, { apiKey: KEY, timeoutMs: 5000 }).catch((e: unknown) => e)
    expect(seen).toHaveLength(1)
    expect(mapTogetherError(dropped, ctx)).toMatchObject({ code: 'PROVIDER_CREATE_UNCERTAIN', retryable: false })
    answers.set('videos', () => {})
    const silent = await createJob(baseURL, BODY, { apiKey: KEY, timeoutMs: 150 }).catch((e: unknown) => e)
    expect(silent).toBeInstanceOf(APIConnectionTimeoutError)
    expect(mapTogetherError(silent, ctx)).toMatchObject({ code: 'PROVIDER_CREATE_UNCERTAIN', retryable: false })
  })

  it('takes a connection of its own for each create', async () => {
    const ports = new Set<number>()
    const onRequest = (req: IncomingMessage) => ports.add(req.socket.remotePort ?? 0)
    server.on('request', onRequest)
    answers.set('videos', send(200, 'application/json', '{"id":"j","status":"queued"}'))
    for (let i = 0; i < 3; i++) await createJob(baseURL, BODY, { apiKey: KEY, timeoutMs: 5000 })
    server.off('request', onRequest)
    expect(ports.size).toBe(3)
  })
})
