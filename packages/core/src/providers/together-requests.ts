import type { IncomingHttpHeaders } from 'node:http'
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'together-ai/core/error'
import { VERSION } from 'together-ai/version'
import { HttpError, httpRequest, readText, type HttpResponse, type RequestOptions as HttpRequestOptions } from '../net/http.js'
import { RequestNotSentError, notSentCode } from './together-errors.js'

export interface RequestOptions {
  apiKey: string
  timeoutMs: number
  signal?: AbortSignal | undefined
}

/**
 * The two requests a paid job makes of Together's video API, sent and answered the way the SDK's
 * `client.videos.create` and `client.videos.retrieve` do (its URL, its headers, its error classes, so
 * `mapTogetherError` judges them alike) without the SDK's per-request machinery: option merging,
 * platform headers, two eagerly formatted debug records, an API promise, and fetch underneath. That
 * machinery cost more CPU than the requests (a poll 0.55 ms against 0.23 ms on loopback, a create
 * 1.1 ms against 0.2 ms), a job makes about ten, and a run of short jobs is bound by the client's CPU.
 */

/** `GET {baseURL}/videos/{id}`: one poll of a job. */
export function retrieveJob(baseURL: string, jobId: string, opts: RequestOptions): Promise<unknown> {
  if (opts.signal?.aborted) return Promise.reject(new APIUserAbortError())
  // Joined and escaped as the SDK does: a journal's id can never name another path (`..`).
  if (jobId === '' || jobId === '.' || jobId === '..') return Promise.reject(new Error(`${JSON.stringify(jobId)} is not a job id`))
  const url = `${videosURL(baseURL)}/${jobId.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@]+/g, encodeURIComponent)}`
  return call(url, { method: 'GET', followRedirects: true }, opts)
}

/**
 * `POST {baseURL}/videos`: creates a paid job. Sent once (the runner owns retries: a blind retry can
 * start a second job) on a connection of its own, so a kept-alive socket the server closed at that
 * moment cannot fail a create that may have gone out. A failure before the connection was made is a
 * `RequestNotSentError` (nothing left this process, trying again is safe); any other is not.
 */
export function createJob(baseURL: string, body: object, opts: RequestOptions): Promise<unknown> {
  if (opts.signal?.aborted) return Promise.reject(new APIUserAbortError())
  const request = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), fresh: true } as const
  return call(videosURL(baseURL), request, opts)
}

const videosURL = (baseURL: string): string => `${baseURL.endsWith('/') ? baseURL.slice(0, -1) : baseURL}/videos`

/** One request as `httpRequest` takes it; `call` adds the signal (the caller's, and the timeout). */
type Call = Omit<HttpRequestOptions, 'signal'>

async function call(url: string, request: Call, opts: RequestOptions): Promise<unknown> {
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, opts.timeoutMs)
  const onAbort = (): void => controller.abort()
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    let response: HttpResponse
    let text: string
    try {
      response = await httpRequest(url, {
        ...request,
        headers: { accept: 'application/json', 'user-agent': USER_AGENT, authorization: `Bearer ${opts.apiKey}`, ...request.headers },
        signal: controller.signal,
      })
      text = await readText(response.body)
    } catch (err) {
      if (opts.signal?.aborted) throw new APIUserAbortError()
      const cause = err instanceof Error ? err : new Error(String(err))
      const unsent = notSentCode(cause) ?? (cause instanceof HttpError && !cause.sent ? unsentCode(cause, timedOut) : undefined)
      if (unsent !== undefined) throw new APIConnectionError({ cause: new RequestNotSentError(unsent, cause) })
      // The SDK's test, so a timeout deep in the cause is a timeout here too.
      if (timedOut || /timed? ?out/i.test(`${String(cause)}${'cause' in cause ? String(cause.cause) : ''}`)) throw new APIConnectionTimeoutError()
      throw new APIConnectionError({ cause })
    }
    if (response.status < 200 || response.status > 299) {
      const json = parseOrUndefined(text)
      throw APIError.generate(response.status, json, json === undefined ? text : undefined, toHeaders(response.body.headers))
    }
    if (response.status === 204) return null
    const mediaType = response.header('content-type')?.split(';')[0]?.trim()
    if (!(mediaType?.includes('application/json') || mediaType?.endsWith('+json'))) return text
    if (response.header('content-length') === '0') return undefined
    return JSON.parse(text) as unknown
  } finally {
    clearTimeout(timer)
    opts.signal?.removeEventListener('abort', onAbort)
  }
}

/** As the SDK introduces itself, so Together sees one client family. */
const USER_AGENT = `Together/JS ${VERSION}`

/** What to call a failure before any connection was made: the socket's code, or why it was given up. */
function unsentCode(err: HttpError, timedOut: boolean): string {
  const code = (err.cause as { code?: unknown } | undefined)?.code
  if (typeof code === 'string' && code !== 'ABORT_ERR') return code
  return timedOut ? 'CONNECT_TIMEOUT' : 'NOT_CONNECTED'
}

function parseOrUndefined(text: string): object | undefined {
  try {
    return JSON.parse(text) as object
  } catch {
    return undefined
  }
}

/** The SDK's errors carry a fetch `Headers` (the error mapping reads `retry-after` from it): built only for an error. */
function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers()
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v)
  }
  return headers
}
