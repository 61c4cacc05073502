import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'together-ai/core/error'
import { VidspecError } from '../errors.js'
import { scrub } from './scrub.js'

export type TogetherOperation = 'create' | 'poll'

export interface TogetherErrorContext {
  op: TogetherOperation
  apiKey: string
  baseURL: string
  /** The job being polled. */
  jobId?: string | undefined
  /** The spec the create was for. */
  spec?: string | undefined
  signal?: AbortSignal | undefined
}

const KEYS_PAGE = 'https://api.together.ai/settings/api-keys'

/**
 * Socket error codes that can only happen before a single byte of the request was written: the
 * connection, the name lookup or the TLS handshake failed. Only these make a failed create safe to retry.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EAI_FAIL',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
])

/**
 * A create that failed before its connection was made (see together-requests.ts): nothing left this
 * process, so trying again is safe. `code` says why: the socket's error, or that connecting was given up.
 */
export class RequestNotSentError extends Error {
  readonly code: string
  constructor(code: string, original: unknown) {
    super(`could not connect (${code})`)
    this.name = 'RequestNotSentError'
    this.code = code
    Object.defineProperty(this, 'original', { value: original, enumerable: false })
  }
}

/** The socket code proving nothing was sent, if the error's cause chain holds only such codes. */
export function notSentCode(err: unknown, depth = 0): string | undefined {
  if (depth > 5 || typeof err !== 'object' || err === null) return undefined
  if (err instanceof RequestNotSentError) return err.code
  // Happy eyeballs: every address tried, every attempt refused.
  if (err instanceof AggregateError && err.errors.length > 0) {
    const codes = err.errors.map((e: unknown) => notSentCode(e, depth + 1))
    if (codes.every((c) => c !== undefined)) return codes[0]
  }
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') return NOT_SENT_CODES.has(code) ? code : undefined
  return notSentCode((err as { cause?: unknown }).cause, depth + 1)
}

/** Milliseconds the server asked us to wait: `retry-after-ms`, else `retry-after` (seconds or HTTP date). */
export function retryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  const ms = headers?.get('retry-after-ms')?.trim()
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.round(Number(ms))
  const after = headers?.get('retry-after')?.trim()
  if (!after) return undefined
  if (/^\d+(\.\d+)?$/.test(after)) return Math.round(Number(after) * 1000)
  const date = Date.parse(after)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** The human part of an error response: Together nests it as `{ error: { message } }`. */
export function serverMessage(err: APIError): string | undefined {
  const body = err.error as { error?: { message?: unknown }; message?: unknown } | undefined
  const nested = body?.error?.message
  if (typeof nested === 'string' && nested.trim()) return nested.trim()
  if (typeof body?.message === 'string' && body.message.trim()) return body.message.trim()
  if (body !== undefined) return undefined
  // No JSON: the SDK put the raw text after the status.
  const text = err.message.replace(/^\d{3}\s*/, '').trim()
  return text && !/status code \(no body\)/.test(text) ? text.slice(0, 500) : undefined
}

export { scrub }

/**
 * Turns whatever the SDK threw into a `VidspecError`. `retryable` is only set where trying again is
 * safe: for a create, that means the server answered with an error (so it started no job) or the
 * request never left this machine. Anything else after the request was sent may have started a paid
 * job, and is reported as `PROVIDER_CREATE_UNCERTAIN` instead.
 */
export function mapTogetherError(err: unknown, ctx: TogetherErrorContext): VidspecError {
  if (err instanceof VidspecError) return err
  const what = ctx.op === 'create' ? 'creating the Together video job' : `polling Together job ${ctx.jobId ?? '?'}`
  const file = ctx.spec
  if (err instanceof APIUserAbortError || ctx.signal?.aborted) {
    const note = ctx.op === 'create' ? ' (if the request had reached Together, a job may have started)' : ''
    return new VidspecError('ABORTED', `cancelled while ${what}${note}`, { cause: ctx.signal?.reason ?? err, file })
  }
  if (err instanceof APIError && typeof err.status === 'number') return mapStatus(err, err.status, what, ctx)

  const code = notSentCode(err)
  if (code !== undefined) {
    return new VidspecError(
      'PROVIDER_UNAVAILABLE',
      `${what}: could not reach ${ctx.baseURL} (${code}); nothing was sent, so trying again is safe`,
      { cause: err, retryable: true, file },
    )
  }
  const reason = scrub(describe(err), ctx.apiKey)
  if (ctx.op === 'poll') {
    return new VidspecError('PROVIDER_UNAVAILABLE', `${what}: ${reason}`, { cause: err, retryable: true })
  }
  return uncertainCreate(`${reason} after the request was sent`, err, ctx)
}

/** A create whose answer does not tell whether a job was started: never retried on its own. */
function uncertainCreate(reason: string, err: unknown, ctx: TogetherErrorContext): VidspecError {
  return new VidspecError(
    'PROVIDER_CREATE_UNCERTAIN',
    `creating the Together video job: ${scrub(reason, ctx.apiKey)}, so Together may have started (and charged for) a job ` +
      'whose id never reached us. vidspec does not retry this on its own, to avoid paying twice: check your ' +
      'jobs and billing at https://api.together.ai, then run again with --retry-uncertain to start a new job.',
    { cause: err, retryable: false, file: ctx.spec, ...(err instanceof APIError && typeof err.status === 'number' ? { status: err.status } : {}) },
  )
}

/** True when the error body is Together's own JSON envelope (`{ error: { message } }`), not a proxy's page. */
export function isApiErrorBody(err: APIError): boolean {
  const body = err.error as { error?: { message?: unknown } } | undefined
  return typeof body === 'object' && body !== null && typeof body.error?.message === 'string'
}

function mapStatus(err: APIError, status: number, what: string, ctx: TogetherErrorContext): VidspecError {
  const said = serverMessage(err)
  const detail = said ? `: ${scrub(said, ctx.apiKey)}` : ''
  const base = { cause: err, status, file: ctx.spec }
  const wait = retryAfterMs(err.headers)
  if (status === 401) {
    return new VidspecError(
      'PROVIDER_AUTH',
      `Together rejected the API key (401). Set TOGETHER_API_KEY to a valid key from ${KEYS_PAGE}`,
      base,
    )
  }
  if (status === 402) {
    return new VidspecError(
      'PROVIDER_PAYMENT',
      `${what}: Together refused payment (402)${detail}. The account is out of credits or has reached its ` +
        'spending limit: add credits or raise the limit in your Together account, then run again',
      base,
    )
  }
  if (status === 403) {
    return new VidspecError(
      'PROVIDER_AUTH',
      `${what}: Together refused access (403)${detail}. The key may not have access to this model`,
      base,
    )
  }
  if (status === 404 && ctx.op === 'poll') {
    // Kept journaled by the runner: the usual cause is a wrong key or base URL, not a vanished job.
    return new VidspecError(
      'JOB_UNKNOWN',
      `job ${ctx.jobId ?? '?'} is not known to this key or base URL (Together answered 404${detail}; base URL now ${ctx.baseURL})`,
      base,
    )
  }
  if (status === 404) {
    return new VidspecError(
      'PROVIDER_BAD_REQUEST',
      `${what}: Together answered 404${detail}. Check the model id and the base URL (now ${ctx.baseURL}; ` +
        "Together's video API is https://api.together.ai/v2)",
      base,
    )
  }
  if (status === 429) {
    // A rate limit is decided before a request is processed, whoever sends it: no job was made.
    return new VidspecError('PROVIDER_RATE_LIMITED', `${what}: Together is rate limiting us (429)${detail}`, {
      ...base,
      retryable: true,
      retryAfterMs: wait,
    })
  }
  if (ctx.op === 'create' && (status === 408 || status >= 500)) {
    // Only the API's own "overloaded, not taken" (503 with its JSON error) proves that no job was made.
    // A gateway's 502/504, a 500, an HTML or empty page may come after the job was started.
    if (status === 503 && isApiErrorBody(err)) {
      return new VidspecError('PROVIDER_UNAVAILABLE', `${what}: Together answered 503${detail}`, {
        ...base,
        retryable: true,
        retryAfterMs: wait,
      })
    }
    const said = isApiErrorBody(err) ? detail : ' with a body that is not the API\'s JSON error (a gateway or proxy answered)'
    return uncertainCreate(`Together answered ${status}${said}`, err, ctx)
  }
  // Polls: 408/409 and 5xx are transient, and a poll can never pay twice.
  if (status === 408 || status === 409 || status >= 500) {
    return new VidspecError('PROVIDER_UNAVAILABLE', `${what}: Together answered ${status}${detail}`, {
      ...base,
      retryable: true,
      retryAfterMs: wait,
    })
  }
  return new VidspecError(
    'PROVIDER_BAD_REQUEST',
    `${what}: Together rejected the request (${status})${detail || ' without a reason'}`,
    base,
  )
}

function describe(err: unknown): string {
  if (err instanceof APIConnectionTimeoutError) return 'the request timed out'
  if (err instanceof APIConnectionError) {
    const cause = (err as { cause?: unknown }).cause
    const inner = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : undefined
    return `the connection failed${inner ? ` (${inner})` : ''}`
  }
  if (err instanceof Error) return `the response could not be read (${err.message})`
  return `the request failed (${String(err)})`
}
