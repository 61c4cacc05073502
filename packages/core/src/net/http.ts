import type { Agent, IncomingMessage, OutgoingHttpHeaders, request as plainRequest } from 'node:http'

/**
 * The requests a paid job makes, on Node's own HTTP client: its create, its polls (a few per
 * job) and its result's download. `fetch` costs about three times the CPU per request on loopback
 * (its WHATWG streams, Headers, Request and Response objects, and the JIT warming all of it up), and
 * a run of many short jobs is bound by the client's CPU. Sockets are kept alive per origin, as fetch
 * keeps them, except where a request asks for a fresh one.
 */
type Protocol = 'http:' | 'https:'

interface Transport {
  request: typeof plainRequest
  agent: Agent
}

/**
 * Node's HTTP and HTTPS clients load on the first request of each kind: together they take ~10 ms
 * to import, and a plan or a cached build never sends one.
 */
const transports: Partial<Record<Protocol, Promise<Transport>>> = {}
function transport(protocol: Protocol): Promise<Transport> {
  return (transports[protocol] ??=
    protocol === 'https:'
      ? import('node:https').then((m) => ({ request: m.request, agent: new m.Agent({ keepAlive: true }) }))
      : import('node:http').then((m) => ({ request: m.request, agent: new m.Agent({ keepAlive: true }) })))
}

/** What fetch follows at most. */
const MAX_REDIRECTS = 20

export interface RequestOptions {
  /** @default 'GET' */
  method?: 'GET' | 'POST' | undefined
  headers?: Record<string, string> | undefined
  body?: string | undefined
  signal?: AbortSignal | undefined
  /** Follow 301, 302, 303, 307 and 308 (as fetch's `redirect: 'follow'`) of a GET; otherwise a 3xx is the answer. */
  followRedirects?: boolean | undefined
  /**
   * A connection of its own, closed after the answer, rather than a kept-alive one: a kept-alive
   * socket the server closes just as the request goes out fails it after it may have been sent.
   */
  fresh?: boolean | undefined
}

export interface HttpResponse {
  status: number
  /** Where the answer came from, after redirects. */
  url: string
  /** A response header, lower-case name; repeated ones joined with `, `. */
  header(name: string): string | undefined
  /** The body, unread: read it (`readText`), or `discard` it so the socket can serve another request. */
  body: IncomingMessage
}

/** An error from the request itself (no answer, an answer cut off, an abort); `cause` is Node's error. */
export class HttpError extends Error {
  override readonly name = 'HttpError'
  /**
   * False only when the connection was never made, so not a byte of the request left this process
   * (a refused connection, a failed lookup, an abort or timeout while connecting).
   */
  readonly sent: boolean
  constructor(message: string, opts: { cause?: unknown; sent?: boolean } = {}) {
    super(message, { cause: opts.cause })
    this.sent = opts.sent ?? true
  }
}

export function httpRequest(url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (err) {
    return Promise.reject(new HttpError('an invalid URL', { cause: err, sent: false }))
  }
  return request(parsed, opts.headers ?? {}, opts, 0)
}

async function request(url: URL, headers: Record<string, string>, opts: RequestOptions, redirects: number): Promise<HttpResponse> {
  const res = await send(url, headers, opts)
  const status = res.statusCode ?? 0
  const location = res.headers.location
  if (!opts.followRedirects || (opts.method ?? 'GET') !== 'GET' || !isRedirect(status) || location === undefined) return answer(url, res)
  discard(res)
  if (redirects >= MAX_REDIRECTS) throw new HttpError(`more than ${MAX_REDIRECTS} redirects from ${url.origin}${url.pathname}`)
  let next: URL
  try {
    next = new URL(location, url)
  } catch (err) {
    throw new HttpError(`a redirect to an invalid location from ${url.origin}${url.pathname}`, { cause: err })
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new HttpError(`a redirect to a ${next.protocol} URL from ${url.origin}${url.pathname}`)
  // As fetch does: credentials meant for one origin never follow a redirect to another.
  const carried = next.origin === url.origin ? headers : withoutCredentials(headers)
  return request(next, carried, opts, redirects + 1)
}

async function send(url: URL, headers: OutgoingHttpHeaders, opts: RequestOptions): Promise<IncomingMessage> {
  const protocol = url.protocol
  if (protocol !== 'http:' && protocol !== 'https:') throw new HttpError(`cannot request a ${protocol} URL`, { sent: false })
  const { request, agent } = await transport(protocol)
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: opts.method ?? 'GET', headers, agent: opts.fresh ? false : agent, ...(opts.signal ? { signal: opts.signal } : {}) },
      resolve,
    )
    let connected = false
    req.once('socket', (socket) => {
      // A kept-alive socket is connected already; a new one only once its connection is made.
      connected = !socket.connecting
      if (!connected) socket.once('connect', () => (connected = true))
    })
    // on, not once: a request or body that errs twice must not throw the second time.
    req.on('error', (err) => reject(new HttpError(err.message, { cause: err, sent: connected })))
    req.end(opts.body)
  })
}

function answer(url: URL, res: IncomingMessage): HttpResponse {
  return {
    status: res.statusCode ?? 0,
    url: url.href,
    header: (name) => {
      const value = res.headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    },
    body: res,
  }
}

const isRedirect = (status: number): boolean => status === 301 || status === 302 || status === 303 || status === 307 || status === 308

function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase()
    if (lower !== 'authorization' && lower !== 'cookie' && lower !== 'proxy-authorization') kept[name] = value
  }
  return kept
}

/** The whole body as UTF-8 text; rejects when the answer is cut off or the request aborted. */
export async function readText(body: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  await readBody(body, (chunk) => chunks.push(chunk))
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Hands each chunk of the body to `onChunk` as it arrives, and settles when the body ends: rejects
 * when the answer is cut off, the request aborted, or `onChunk` throws (the body is dropped then).
 */
export function readBody(body: IncomingMessage, onChunk: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    // Read the moment it is answered, or it is too late to hear how it ended.
    if (body.destroyed) return reject(new HttpError('the answer was dropped before it was read'))
    let ended = false
    body.on('data', (chunk: Buffer) => {
      try {
        onChunk(chunk)
      } catch (err) {
        body.destroy(err instanceof Error ? err : new Error(String(err)))
      }
    })
    body.once('end', () => {
      ended = true
      resolve()
    })
    body.on('error', reject)
    // Closed before its end: the connection went away mid-answer. (An error is costly to make: only then.)
    body.once('close', () => ended || reject(new HttpError('the connection closed before the answer ended')))
  })
}

/** Drops a body unread; a finished one leaves its socket free for the next request. */
export function discard(body: IncomingMessage): void {
  body.resume()
  body.on('error', () => {})
}
