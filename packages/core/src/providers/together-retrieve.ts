import type { IncomingHttpHeaders } from 'node:http'
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'together-ai'
import { httpGet, readText, type GetResponse } from '../net/http-get.js'

export interface RetrieveOptions {
  apiKey: string
  timeoutMs: number
  signal?: AbortSignal | undefined
}

/**
 * One poll of a job: the request `client.videos.retrieve` sends, answered and failing the way it
 * does (the SDK's own error classes, so `mapTogetherError` judges both alike), without the SDK's
 * per-request machinery (option merging, platform headers, two eagerly formatted debug records, an
 * API promise). A poll is a job's most frequent request, about ten per job, and that machinery cost
 * more CPU than the request itself (0.55 ms against 0.23 ms on loopback). It goes through Node's own
 * HTTP client rather than fetch, for the same reason (see `httpGet`).
 */
export async function retrieveJob(baseURL: string, jobId: string, opts: RetrieveOptions): Promise<unknown> {
  if (opts.signal?.aborted) throw new APIUserAbortError()
  // `GET {baseURL}/videos/{id}`, joined and escaped as the SDK does: a journal's id can never name
  // another path (`..`).
  if (jobId === '' || jobId === '.' || jobId === '..') throw new Error(`${JSON.stringify(jobId)} is not a job id`)
  const url = `${baseURL.endsWith('/') ? baseURL.slice(0, -1) : baseURL}/videos/${jobId.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@]+/g, encodeURIComponent)}`
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, opts.timeoutMs)
  const onAbort = (): void => controller.abort()
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    let response: GetResponse
    let text: string
    try {
      response = await httpGet(url, {
        headers: { accept: 'application/json', authorization: `Bearer ${opts.apiKey}` },
        signal: controller.signal,
        // As fetch does for the SDK.
        followRedirects: true,
      })
      text = await readText(response.body)
    } catch (err) {
      if (opts.signal?.aborted) throw new APIUserAbortError()
      const cause = err instanceof Error ? err : new Error(String(err))
      // The SDK's test, so a connect timeout deep in the cause is a timeout here too.
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
