import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { TINY_CLIP, clip, type ClipGeometry } from './clips.js'
import { containerResult } from './container-faults.js'
import { FaultQueue, type Fault, type FaultKind, type FiredFault, type RequestFault } from './faults.js'
import { hashBody, jobId, jobSize, jobStatus, videoJobJson, type FakeJob } from './jobs.js'
import { resultBody, sendResult } from './serve-file.js'
import { validateCreateBody } from './validate.js'

export type { Fault, FaultKind, FiredFault } from './faults.js'
export type { FakeJob, FakeJobStatus } from './jobs.js'
export { canonicalJson, hashBody } from './jobs.js'

export interface FakeTogetherOptions {
  /** The only key accepted as `Authorization: Bearer <key>`. @default 'test-key' */
  apiKey?: string
  /** @default '127.0.0.1' */
  host?: string
  /** @default 0 (any free port) */
  port?: number
  /** Create to outcome; the first third of it the job is `queued`, then `in_progress`. @default 300 */
  jobDurationMs?: number
  /** How long a result URL works after the answer that carried it. @default 600000 */
  urlTtlMs?: number
  /** Jobs not yet finished at once; one more create gets a 429. @default Infinity */
  maxConcurrentJobs?: number
  /** `outputs.cost` is this times the job's seconds. @default 0.05 */
  costPerSecond?: number
  /** Geometry of the served clip, or `'request'` to follow each job's size and seconds. @default 160x90, 1 s, 10 fps */
  clip?: ClipGeometry | 'request'
  /** Pads every MP4 result with a `free` box to exactly this many bytes (streamed). */
  largeResultBytes?: number
  /** `created_at`/`completed_at` as ISO strings (as in the docs' example) instead of Unix seconds. @default false */
  isoTimestamps?: boolean
  /** The clock the jobs run on. @default Date.now */
  now?: () => number
  /** Called with one line per request. */
  log?: (line: string) => void
}

export type ResolvedFakeOptions = Required<Omit<FakeTogetherOptions, 'largeResultBytes' | 'log'>> &
  Pick<FakeTogetherOptions, 'largeResultBytes' | 'log'>

export type RouteName = 'POST /videos' | 'GET /videos/:id' | 'GET /shrt/:token' | 'GET /files/:file' | 'other'

export interface RequestRecord {
  method: string
  path: string
  route: RouteName
  /** HTTP status sent, or what happened instead. */
  outcome: number | 'dropped' | 'hung'
  fault?: FaultKind | undefined
  at: number
}

interface UrlToken {
  jobId: string
  expiresAt: number
}

const VIDEO_ROUTE = /^(?:\/v[12])?\/videos(?:\/([^/]+))?\/?$/

export class FakeTogether implements AsyncDisposable {
  /** `http://127.0.0.1:<port>`, no prefix. */
  readonly url: string
  /** `${url}/v2`: what to give the provider (or TOGETHER_BASE_URL). */
  readonly baseURL: string
  readonly port: number
  /** Options in force; change them at any time (e.g. `fake.options.maxConcurrentJobs = 1`). */
  readonly options: ResolvedFakeOptions

  /** Jobs created (a `drop-after-create` job counts: it exists and is billed). */
  creates = 0
  /** Creates per `hashBody(body)`. */
  readonly createsByBody = new Map<string, number>()
  /** Creates per prompt (`''` when there is none). */
  readonly createsByPrompt = new Map<string, number>()
  /** POST /videos requests per prompt, whatever the answer (refused, held, dropped or created). */
  readonly postsByPrompt = new Map<string, number>()
  /** Every job, in creation order. */
  readonly jobs: FakeJob[] = []
  /** GET /videos/:id requests received, whatever the answer. */
  polls = 0
  /** GET /shrt/:token requests received. */
  redirects = 0
  /** GET/HEAD /files/:file requests received, whatever the answer. */
  downloads = 0
  /** Result-host requests that carried an Authorization header (should stay 0). */
  downloadsWithAuth = 0
  /** Bytes of result bodies written. */
  bytesServed = 0
  /** Requests received per route. */
  readonly requests = new Map<RouteName, number>()
  readonly log: RequestRecord[] = []
  /** Most jobs unfinished at once, as seen at each create. */
  maxInFlight = 0
  /** Create answers waiting for `releaseHeld()` (the `hold-after-create` fault). */
  get held(): number {
    return this.#held.length
  }

  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  readonly #faults = new FaultQueue()
  readonly #tokens = new Map<string, UrlToken>()
  #held: Array<() => void> = []
  #closed: Promise<void> | undefined

  constructor(server: Server, options: ResolvedFakeOptions) {
    this.#server = server
    this.options = options
    const { port } = server.address() as AddressInfo
    this.port = port
    this.url = `http://${options.host}:${port}`
    this.baseURL = `${this.url}/v2`
    server.on('connection', (socket) => {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
    })
    server.on('request', (req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.#json(res, 500, envelope(`fake server bug: ${String(err)}`, 'server_error'))
        else res.destroy()
      })
    })
  }

  /** Jobs not finished now. */
  get inFlight(): number {
    const now = this.options.now()
    return this.jobs.filter((j) => isRunning(jobStatus(j, now))).length
  }

  /** Faults that have happened, in order. */
  get faultsFired(): readonly FiredFault[] {
    return this.#faults.fired
  }

  /** Queues a fault; it hits the next matching request(s). */
  fault(fault: Fault): this {
    this.#faults.add(fault)
    return this
  }

  pendingFaults(): Array<{ kind: FaultKind; left: number }> {
    return this.#faults.pending()
  }

  /** Clears faults, jobs, URLs and every counter. Options stay as they are. */
  reset(): void {
    this.#faults.clear()
    this.#tokens.clear()
    this.#held = []
    this.jobs.length = 0
    this.log.length = 0
    this.createsByBody.clear()
    this.createsByPrompt.clear()
    this.postsByPrompt.clear()
    this.requests.clear()
    this.creates = this.polls = this.redirects = this.downloads = this.downloadsWithAuth = this.bytesServed = 0
    this.maxInFlight = 0
  }

  /** Sends every held create answer now (the jobs have existed since the request arrived). */
  releaseHeld(): void {
    for (const send of this.#held.splice(0)) send()
  }

  /** Makes every result URL handed out so far expire now. */
  expireUrls(): void {
    for (const token of this.#tokens.values()) token.expiresAt = -Infinity
  }

  job(id: string): FakeJob | undefined {
    return this.jobs.find((j) => j.id === id)
  }

  /** Closes the server and destroys every open connection (hung requests included). */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve())
      for (const socket of this.#sockets) socket.destroy()
    })
    return this.#closed
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', this.url).pathname
    const method = req.method ?? 'GET'
    const video = VIDEO_ROUTE.exec(path)
    if (video && method === 'POST' && !video[1]) return this.#create(req, res, path)
    if (video && method === 'GET' && video[1]) return this.#poll(req, res, path, decodeURIComponent(video[1]))
    const shrt = /^\/shrt\/([\w-]+)$/.exec(path)
    if (shrt?.[1] && (method === 'GET' || method === 'HEAD')) return this.#redirect(req, res, path, shrt[1])
    const file = /^\/files\/([\w-]+)\.(mp4|webm)$/.exec(path)
    if (file?.[1] && (method === 'GET' || method === 'HEAD')) return this.#download(req, res, path, file[1])
    this.#record(req, path, 'other', video ? 405 : 404)
    await readBody(req)
    this.#json(res, video ? 405 : 404, envelope(`No route for ${method} ${path}`, 'invalid_request_error'))
  }

  async #create(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const route: RouteName = 'POST /videos'
    const raw = await readBody(req)
    let body: unknown
    try {
      body = JSON.parse(raw.toString('utf8'))
    } catch {
      body = undefined
    }
    const info = { op: 'create' as const, body: isObject(body) ? body : undefined }
    const postPrompt = typeof info.body?.prompt === 'string' ? info.body.prompt : ''
    this.postsByPrompt.set(postPrompt, (this.postsByPrompt.get(postPrompt) ?? 0) + 1)
    const fault = this.#faults.take('create', info)
    if (fault && this.#requestFault(req, res, path, route, fault)) return
    if (!this.#authorized(req)) return this.#unauthorized(req, res, path, route, fault)
    if (body === undefined) {
      this.#record(req, path, route, 400, fault)
      return this.#json(res, 400, envelope('The request body is not valid JSON.', 'invalid_request_error'))
    }
    const invalid = validateCreateBody(body)
    if (invalid || !isObject(body)) {
      this.#record(req, path, route, 400, fault)
      const message = invalid?.message ?? 'The request body must be a JSON object.'
      return this.#json(res, 400, envelope(message, 'invalid_request_error', invalid?.param || null))
    }
    const now = this.options.now()
    const running = this.jobs.filter((j) => isRunning(jobStatus(j, now)))
    if (running.length >= this.options.maxConcurrentJobs) {
      const next = Math.min(...running.map((j) => (j.outcome === 'never' ? Infinity : j.createdAt + j.durationMs)))
      const waitMs = Number.isFinite(next) ? Math.max(1, next - now) : 1000
      this.#record(req, path, route, 429, fault)
      return this.#json(
        res,
        429,
        envelope(`Too many video jobs in progress (limit ${this.options.maxConcurrentJobs}).`, 'dynamic_request_limited'),
        { ...rateLimitHeaders(this.options.maxConcurrentJobs, waitMs), 'retry-after-ms': String(waitMs), 'retry-after': String(Math.ceil(waitMs / 1000)) },
      )
    }
    const job = this.#newJob(body, req, path, now)
    this.maxInFlight = Math.max(this.maxInFlight, running.length + 1)
    if (fault?.kind === 'drop-after-create') {
      this.#record(req, path, route, 'dropped', fault)
      req.socket.destroy()
      return
    }
    if (fault?.kind === 'hang-after-create') {
      this.#record(req, path, route, 'hung', fault)
      return
    }
    if (fault?.kind === 'malformed') return this.#malformed(req, res, path, route, fault)
    if (fault?.kind === 'answer-after-create') return this.#brokenAnswer(req, res, path, route, fault)
    if (fault?.kind === 'hold-after-create') {
      this.#record(req, path, route, 'hung', fault)
      this.#held.push(() => {
        if (!res.destroyed) this.#json(res, 200, this.#jobJson(job, this.options.now()))
      })
      return
    }
    this.#record(req, path, route, 200, fault)
    this.#json(res, 200, this.#jobJson(job, now))
  }

  /** What a gateway in front of the API, or a broken API, may answer after the job was made. */
  #brokenAnswer(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    route: RouteName,
    fault: Extract<Fault, { kind: 'answer-after-create' }>,
  ): void {
    this.#record(req, path, route, fault.status, fault)
    if (fault.body === 'json') return this.#json(res, fault.status, envelope(`HTTP ${fault.status}`, 'server_error'))
    if (fault.body === 'no-id') return this.#json(res, fault.status, { object: 'video', status: 'queued' })
    const text = fault.body === 'html' ? `<html><body><h1>${fault.status} Bad Gateway</h1><p>nginx</p></body></html>` : ''
    res.writeHead(fault.status, { 'content-type': fault.body === 'html' ? 'text/html' : 'text/plain', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }

  #newJob(body: Record<string, unknown>, req: IncomingMessage, path: string, now: number): FakeJob {
    const jobFault = this.#faults.take('job', { op: 'create', body })
    const seconds = body.seconds === undefined ? '5' : String(body.seconds)
    const headers = Object.fromEntries(
      Object.entries(req.headers).flatMap(([k, v]) => (k === 'authorization' || v === undefined ? [] : [[k, String(v)]])),
    )
    const job: FakeJob = {
      id: jobId(now),
      body,
      bodyHash: hashBody(body),
      model: String(body.model),
      size: jobSize(body),
      seconds,
      format: body.output_format === 'WEBM' ? 'WEBM' : 'MP4',
      createdAt: now,
      durationMs: this.options.jobDurationMs,
      outcome: 'completed',
      cost: Math.round(Number(seconds) * this.options.costPerSecond * 10_000) / 10_000,
      headers,
      path,
    }
    switch (jobFault?.kind) {
      case 'job-fails':
        job.outcome = 'failed'
        job.error = { message: jobFault.message ?? 'The model could not generate this video.', code: jobFault.code ?? 'generationFailed' }
        job.durationMs = jobFault.durationMs ?? job.durationMs
        break
      case 'job-cancelled':
        job.outcome = 'cancelled'
        job.durationMs = jobFault.durationMs ?? job.durationMs
        break
      case 'job-never-finishes':
        job.outcome = 'never'
        break
      case 'job-duration':
        job.durationMs = jobFault.durationMs
        break
    }
    this.jobs.push(job)
    this.creates += 1
    this.createsByBody.set(job.bodyHash, (this.createsByBody.get(job.bodyHash) ?? 0) + 1)
    const prompt = typeof body.prompt === 'string' ? body.prompt : ''
    this.createsByPrompt.set(prompt, (this.createsByPrompt.get(prompt) ?? 0) + 1)
    return job
  }

  async #poll(req: IncomingMessage, res: ServerResponse, path: string, id: string): Promise<void> {
    const route: RouteName = 'GET /videos/:id'
    this.polls += 1
    await readBody(req)
    const job = this.job(id)
    const fault = this.#faults.take('poll', { op: 'poll', jobId: id, body: job?.body })
    if (fault && this.#requestFault(req, res, path, route, fault)) return
    if (!this.#authorized(req)) return this.#unauthorized(req, res, path, route, fault)
    if (!job) {
      this.#record(req, path, route, 404, fault)
      return this.#json(res, 404, envelope('Video ID not found.', 'invalid_request_error', 'id'))
    }
    if (fault?.kind === 'malformed') return this.#malformed(req, res, path, route, fault)
    this.#record(req, path, route, 200, fault)
    this.#json(res, 200, this.#jobJson(job, this.options.now()))
  }

  /** The short link redirects to the file; both stop working when the token expires. */
  async #redirect(req: IncomingMessage, res: ServerResponse, path: string, token: string): Promise<void> {
    this.redirects += 1
    if (req.headers.authorization) this.downloadsWithAuth += 1
    const entry = this.#tokens.get(token)
    if (!entry || entry.expiresAt <= this.options.now()) return this.#expired(req, res, path, 'GET /shrt/:token', entry)
    const job = this.job(entry.jobId)
    const ext = job?.format === 'WEBM' ? 'webm' : 'mp4'
    this.#record(req, path, 'GET /shrt/:token', 302)
    res.writeHead(302, { location: `${this.url}/files/${token}.${ext}`, 'content-length': 0 })
    res.end()
  }

  async #download(req: IncomingMessage, res: ServerResponse, path: string, token: string): Promise<void> {
    const route: RouteName = 'GET /files/:file'
    this.downloads += 1
    if (req.headers.authorization) this.downloadsWithAuth += 1
    const entry = this.#tokens.get(token)
    const job = entry && this.job(entry.jobId)
    if (!entry || !job || entry.expiresAt <= this.options.now()) return this.#expired(req, res, path, route, entry)
    const fault = this.#faults.take('download', { op: 'download', jobId: job.id, body: job.body })
    if (fault?.kind === 'download-expired') return this.#expired(req, res, path, route, entry, fault)
    if (fault?.kind === 'download-error') {
      this.#record(req, path, route, fault.status, fault)
      return this.#json(res, fault.status, { error: { message: 'download failed', code: fault.status } })
    }
    const geometry = this.options.clip === 'request' ? requestGeometry(job) : this.options.clip
    const special = await containerResult(fault, job, geometry)
    if (special) {
      this.#record(req, path, route, 200, fault)
      this.bytesServed += await sendResult(req, res, resultBody(special.bytes), special.contentType, fault, special)
      return
    }
    // Audio-generating models send sound when asked for it.
    const bytes = await clip(geometry, job.format, job.body.generate_audio === true)
    const large = fault?.kind === 'download-large' ? fault.bytes : job.format === 'MP4' ? this.options.largeResultBytes : undefined
    const body = resultBody(bytes, large)
    this.#record(req, path, route, 200, fault)
    this.bytesServed += await sendResult(req, res, body, job.format === 'WEBM' ? 'video/webm' : 'video/mp4', fault)
  }

  #expired(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    route: RouteName,
    entry: UrlToken | undefined,
    fault?: Fault,
  ): void {
    const status = entry ? 403 : 404
    this.#record(req, path, route, status, fault)
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      (entry
        ? '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>'
        : '<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>')
    res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) })
    res.end(req.method === 'HEAD' ? undefined : xml)
  }

  /** Answers a request fault; false for the faults that need the request processed first. */
  #requestFault(req: IncomingMessage, res: ServerResponse, path: string, route: RouteName, fault: RequestFault): boolean {
    const retry = (f: { retryAfterS?: number; retryAfterMs?: number }) => ({
      ...(f.retryAfterS === undefined ? {} : { 'retry-after': String(f.retryAfterS) }),
      ...(f.retryAfterMs === undefined ? {} : { 'retry-after-ms': String(f.retryAfterMs) }),
    })
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.#record(req, path, route, status, fault)
      this.#json(res, status, body, headers)
      return true
    }
    switch (fault.kind) {
      case 'rate-limit':
        return answer(429, envelope(fault.message ?? 'You have exceeded your request rate.', 'dynamic_request_limited'), {
          ...rateLimitHeaders(1, (fault.retryAfterMs ?? (fault.retryAfterS ?? 1) * 1000)),
          ...retry(fault),
        })
      case 'server-error':
        return answer(500, envelope('Internal server error.', 'server_error'), retry(fault))
      case 'unavailable':
        return answer(503, envelope('The service is temporarily overloaded.', 'service_unavailable'), retry(fault))
      case 'payment':
        return answer(402, envelope('Credit limit exceeded. Add credits to continue.', 'invalid_request_error', null, 'credit_limit'))
      case 'auth':
        return answer(401, unauthorizedBody())
      case 'http-error':
        return answer(
          fault.status,
          envelope(fault.message ?? `HTTP ${fault.status}`, fault.type ?? 'invalid_request_error', null, fault.code ?? null),
          fault.headers,
        )
      case 'drop':
        this.#record(req, path, route, 'dropped', fault)
        req.socket.destroy()
        return true
      case 'hang':
        this.#record(req, path, route, 'hung', fault)
        return true
      default:
        return false
    }
  }

  #malformed(req: IncomingMessage, res: ServerResponse, path: string, route: RouteName, fault: Fault): void {
    this.#record(req, path, route, 200, fault)
    const html = '<html><body><h1>502 Bad Gateway</h1></body></html>'
    res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(html) })
    res.end(html)
  }

  #authorized(req: IncomingMessage): boolean {
    return req.headers.authorization === `Bearer ${this.options.apiKey}`
  }

  #unauthorized(req: IncomingMessage, res: ServerResponse, path: string, route: RouteName, fault?: Fault): void {
    this.#record(req, path, route, 401, fault)
    this.#json(res, 401, unauthorizedBody())
  }

  /** A completed job gets a fresh result URL in every answer, as the real short links expire. */
  #jobJson(job: FakeJob, now: number): Record<string, unknown> {
    let videoUrl: string | undefined
    if (jobStatus(job, now) === 'completed') {
      const token = randomBytes(12).toString('base64url')
      this.#tokens.set(token, { jobId: job.id, expiresAt: now + this.options.urlTtlMs })
      videoUrl = `${this.url}/shrt/${token}`
    }
    return videoJobJson(job, now, { isoTimestamps: this.options.isoTimestamps, videoUrl })
  }

  #json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body)
    res.writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    })
    res.end(text)
  }

  #record(req: IncomingMessage, path: string, route: RouteName, outcome: RequestRecord['outcome'], fault?: Fault): void {
    this.requests.set(route, (this.requests.get(route) ?? 0) + 1)
    const record: RequestRecord = { method: req.method ?? 'GET', path, route, outcome, fault: fault?.kind, at: this.options.now() }
    this.log.push(record)
    this.options.log?.(`${record.method} ${path} -> ${outcome}${fault ? ` [fault ${fault.kind}]` : ''}`)
  }
}

function isRunning(status: string): boolean {
  return status === 'queued' || status === 'in_progress'
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function envelope(message: string, type: string, param: string | null = null, code: string | null = null) {
  return { error: { message, type, param, code } }
}

function unauthorizedBody() {
  return envelope('Invalid API key provided.', 'invalid_request_error', null, 'invalid_api_key')
}

function rateLimitHeaders(limit: number, resetMs: number): Record<string, string> {
  return {
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': '0',
    'x-ratelimit-reset': String(Math.max(0, Math.ceil(resetMs / 1000))),
  }
}

function requestGeometry(job: FakeJob): ClipGeometry {
  const [w, h] = job.size.split('x').map(Number)
  const even = (n: number | undefined, fallback: number) => (n && n > 1 ? Math.floor(n / 2) * 2 : fallback)
  const seconds = Math.min(15, Math.max(1, Math.round(Number(job.seconds)) || 1))
  return { width: even(w, TINY_CLIP.width), height: even(h, TINY_CLIP.height), seconds, fps: 24 }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    req.on('data', (c: Buffer) => parts.push(c))
    req.on('end', () => resolve(Buffer.concat(parts)))
    req.on('error', reject)
  })
}

/** Starts a fake Together video API on a real port; `await using fake = await startFakeTogether()`. */
export async function startFakeTogether(opts: FakeTogetherOptions = {}): Promise<FakeTogether> {
  const options: ResolvedFakeOptions = {
    apiKey: opts.apiKey ?? 'test-key',
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    jobDurationMs: opts.jobDurationMs ?? 300,
    urlTtlMs: opts.urlTtlMs ?? 600_000,
    maxConcurrentJobs: opts.maxConcurrentJobs ?? Infinity,
    costPerSecond: opts.costPerSecond ?? 0.05,
    clip: opts.clip ?? TINY_CLIP,
    isoTimestamps: opts.isoTimestamps ?? false,
    now: opts.now ?? Date.now,
    largeResultBytes: opts.largeResultBytes,
    log: opts.log,
  }
  // Encode the default clip now: a broken ffmpeg should fail here, not in the middle of a download.
  if (options.clip !== 'request') await clip(options.clip, 'MP4')
  const server = createServer({ keepAliveTimeout: 5_000 })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return new FakeTogether(server, options)
}
