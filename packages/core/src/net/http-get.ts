import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

/**
 * GET requests on Node's own HTTP client, for the two a paid job makes most: its polls (about ten
 * per job) and its result's download. `fetch` costs about three times the CPU per request on
 * loopback (its WHATWG streams, Headers, Request and Response objects, and the JIT warming all of
 * it up), and a run of many short jobs is bound by the client's CPU. Sockets are kept alive per
 * origin, as fetch keeps them.
 */
const agents = {
  'http:': new HttpAgent({ keepAlive: true }),
  'https:': new HttpsAgent({ keepAlive: true }),
}

/** What fetch follows at most. */
const MAX_REDIRECTS = 20

export interface GetOptions {
  headers?: Record<string, string> | undefined
  signal?: AbortSignal | undefined
  /** Follow 301, 302, 303, 307 and 308 (as fetch's `redirect: 'follow'`); otherwise a 3xx is the answer. */
  followRedirects?: boolean | undefined
}

export interface GetResponse {
  status: number
  /** Where the answer came from, after redirects. */
  url: string
  /** A response header, lower-case name; repeated ones joined with `, `. */
  header(name: string): string | undefined
  /** The body, unread: read it (`readText`), or `discard` it so the socket can serve another request. */
  body: IncomingMessage
}

/** An error from the request itself (no answer, or an answer cut off); `cause` is Node's error. */
export class HttpGetError extends Error {
  override readonly name = 'HttpGetError'
}

export function httpGet(url: string, opts: GetOptions = {}): Promise<GetResponse> {
  return get(new URL(url), opts.headers ?? {}, opts, 0)
}

async function get(url: URL, headers: Record<string, string>, opts: GetOptions, redirects: number): Promise<GetResponse> {
  const res = await send(url, headers, opts.signal)
  const status = res.statusCode ?? 0
  const location = res.headers.location
  if (!opts.followRedirects || !isRedirect(status) || location === undefined) return answer(url, res)
  discard(res)
  if (redirects >= MAX_REDIRECTS) throw new HttpGetError(`more than ${MAX_REDIRECTS} redirects from ${url.origin}${url.pathname}`)
  let next: URL
  try {
    next = new URL(location, url)
  } catch (err) {
    throw new HttpGetError(`a redirect to an invalid location from ${url.origin}${url.pathname}`, { cause: err })
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new HttpGetError(`a redirect to a ${next.protocol} URL from ${url.origin}${url.pathname}`)
  // As fetch does: credentials meant for one origin never follow a redirect to another.
  const carried = next.origin === url.origin ? headers : withoutCredentials(headers)
  return get(next, carried, opts, redirects + 1)
}

function send(url: URL, headers: OutgoingHttpHeaders, signal: AbortSignal | undefined): Promise<IncomingMessage> {
  const protocol = url.protocol
  if (protocol !== 'http:' && protocol !== 'https:') return Promise.reject(new HttpGetError(`cannot GET a ${protocol} URL`))
  return new Promise((resolve, reject) => {
    const request = protocol === 'https:' ? httpsRequest : httpRequest
    const req = request(url, { method: 'GET', headers, agent: agents[protocol], ...(signal ? { signal } : {}) }, resolve)
    req.once('error', (err) => reject(signal?.aborted ? err : new HttpGetError(err.message, { cause: err })))
    req.end()
  })
}

function answer(url: URL, res: IncomingMessage): GetResponse {
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
export function readText(body: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let ended = false
    body.on('data', (chunk: Buffer) => chunks.push(chunk))
    body.once('end', () => {
      ended = true
      resolve(Buffer.concat(chunks).toString('utf8'))
    })
    body.once('error', reject)
    // Closed before its end: the connection went away mid-answer. (An error is costly to make: only then.)
    body.once('close', () => ended || reject(new HttpGetError('the connection closed before the answer ended')))
  })
}

/** Drops a body unread; a finished one leaves its socket free for the next request. */
export function discard(body: IncomingMessage): void {
  body.resume()
  body.on('error', () => {})
}
