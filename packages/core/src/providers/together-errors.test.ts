import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'together-ai'
import { describe, expect, it } from 'vitest'
import { VidspecError } from '../errors.js'
import {
  RequestNotSentError,
  mapTogetherError,
  notSentCode,
  retryAfterMs,
  serverMessage,
  type TogetherErrorContext,
} from './together-errors.js'

const KEY = 'tg-secret-key-123456'
const create: TogetherErrorContext = { op: 'create', apiKey: KEY, baseURL: 'http://fake/v2', spec: 'hero.video.ts' }
const poll: TogetherErrorContext = { op: 'poll', apiKey: KEY, baseURL: 'http://fake/v2', jobId: 'job-1' }

function apiError(status: number, body: unknown, headers: Record<string, string> = {}): APIError {
  return APIError.generate(status, body as object, undefined, new Headers(headers))
}

function envelope(message: string) {
  return { error: { message, type: 'invalid_request_error', param: null, code: null } }
}

function socketError(code: string): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(`connect ${code}`), { code }) })
}

describe('mapTogetherError: HTTP answers', () => {
  it('401 says how to set the key and never shows it', () => {
    const err = mapTogetherError(apiError(401, envelope(`Invalid API key provided: ${KEY}`)), create)
    expect(err.code).toBe('PROVIDER_AUTH')
    expect(err.retryable).toBe(false)
    expect(err.message).toContain('TOGETHER_API_KEY')
    expect(err.message).toContain('https://api.together.ai/settings/api-keys')
    expect(err.message).not.toContain(KEY)
  })

  it('402 is a payment problem with the server reason', () => {
    const err = mapTogetherError(apiError(402, envelope('Credit limit exceeded')), create)
    expect(err).toMatchObject({ code: 'PROVIDER_PAYMENT', retryable: false, status: 402 })
    expect(err.message).toContain('Credit limit exceeded')
  })

  it.each([400, 422])('%i carries the server message, and any echoed key is scrubbed', (status) => {
    const err = mapTogetherError(apiError(status, envelope(`steps must be 10-50 (key ${KEY})`)), create)
    expect(err).toMatchObject({ code: 'PROVIDER_BAD_REQUEST', retryable: false, status, file: 'hero.video.ts' })
    expect(err.message).toContain('steps must be 10-50')
    expect(err.message).not.toContain(KEY)
  })

  it('reads a plain-text error body', () => {
    const err = APIError.generate(400, undefined, 'upstream said no', new Headers())
    expect(serverMessage(err)).toBe('upstream said no')
  })

  it('404 on poll means the job is unknown; on create it points at the base URL', () => {
    const p = mapTogetherError(apiError(404, envelope('Video ID not found.')), poll)
    expect(p).toMatchObject({ code: 'JOB_UNKNOWN', retryable: false, status: 404 })
    expect(p.message).toContain('job-1')
    expect(p.message).toContain('not known to this key or base URL')
    const c = mapTogetherError(apiError(404, envelope('no such route')), create)
    expect(c).toMatchObject({ code: 'PROVIDER_BAD_REQUEST', retryable: false })
    expect(c.message).toContain('http://fake/v2')
  })

  it('429 is retryable and honours retry-after-ms over retry-after', () => {
    const ms = mapTogetherError(apiError(429, envelope('slow down'), { 'retry-after-ms': '1500', 'retry-after': '9' }), create)
    expect(ms).toMatchObject({ code: 'PROVIDER_RATE_LIMITED', retryable: true, retryAfterMs: 1500 })
    const s = mapTogetherError(apiError(429, envelope('slow down'), { 'retry-after': '2' }), poll)
    expect(s).toMatchObject({ code: 'PROVIDER_RATE_LIMITED', retryable: true, retryAfterMs: 2000 })
    const none = mapTogetherError(apiError(429, envelope('slow down')), poll)
    expect(none.retryAfterMs).toBeUndefined()
  })

  it.each([500, 502, 503, 504])('%i is retryable for a poll', (status) => {
    const err = mapTogetherError(apiError(status, envelope('overloaded'), { 'retry-after': '1' }), poll)
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true, retryAfterMs: 1000, status })
  })

  it("a create is retried on 503 only with the API's own JSON error: it then provably made no job", () => {
    const err = mapTogetherError(apiError(503, envelope('overloaded'), { 'retry-after': '1' }), create)
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true, retryAfterMs: 1000, status: 503 })
  })

  it.each([
    [500, 'json'],
    [502, 'json'],
    [504, 'json'],
    [408, 'json'],
    [503, 'html'],
    [502, 'html'],
    [504, 'empty'],
    [500, 'empty'],
  ] as const)('a create answered %i (%s body) is uncertain, never retried', (status, kind) => {
    const err =
      kind === 'json'
        ? apiError(status, envelope('upstream failed'))
        : APIError.generate(status, undefined, kind === 'html' ? '<html><h1>Bad Gateway</h1></html>' : undefined, new Headers())
    const mapped = mapTogetherError(err, create)
    expect(mapped).toMatchObject({ code: 'PROVIDER_CREATE_UNCERTAIN', retryable: false, status })
    expect(mapped.message).toMatch(/--retry-uncertain/)
    if (kind !== 'json') expect(mapped.message).toMatch(/gateway or proxy/)
  })
})

describe('mapTogetherError: no answer', () => {
  it('a connection that was never made is retryable for a create', () => {
    const err = mapTogetherError(new APIConnectionError({ cause: new RequestNotSentError('ECONNREFUSED', null) }), create)
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true })
    expect(err.message).toContain('ECONNREFUSED')
  })

  it('a reset or a timeout after sending makes a create uncertain, never retryable', () => {
    const reset = mapTogetherError(new APIConnectionError({ cause: socketError('ECONNRESET') }), create)
    expect(reset).toMatchObject({ code: 'PROVIDER_CREATE_UNCERTAIN', retryable: false })
    expect(reset.message).toMatch(/may have started/)
    const timeout = mapTogetherError(new APIConnectionTimeoutError(), create)
    expect(timeout).toMatchObject({ code: 'PROVIDER_CREATE_UNCERTAIN', retryable: false })
    const unreadable = mapTogetherError(new SyntaxError('Unexpected end of JSON input'), create)
    expect(unreadable.code).toBe('PROVIDER_CREATE_UNCERTAIN')
  })

  it('any connection failure while polling is retryable', () => {
    for (const e of [new APIConnectionTimeoutError(), new APIConnectionError({ cause: socketError('UND_ERR_SOCKET') })]) {
      expect(mapTogetherError(e, poll)).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true })
    }
  })

  it('an abort is ABORTED, whatever the SDK made of it', () => {
    const controller = new AbortController()
    controller.abort()
    expect(mapTogetherError(new APIUserAbortError(), create).code).toBe('ABORTED')
    expect(mapTogetherError(new APIConnectionTimeoutError(), { ...poll, signal: controller.signal }).code).toBe('ABORTED')
  })

  it('passes VidspecErrors through', () => {
    const original = new VidspecError('SPEC_INVALID', 'bad')
    expect(mapTogetherError(original, create)).toBe(original)
  })
})

describe('notSentCode', () => {
  it('finds a code that proves nothing was sent anywhere in the cause chain, and no other', () => {
    expect(notSentCode(socketError('ECONNREFUSED'))).toBe('ECONNREFUSED')
    expect(notSentCode(new APIConnectionError({ cause: socketError('ENOTFOUND') }))).toBe('ENOTFOUND')
    expect(notSentCode(new APIConnectionError({ cause: new RequestNotSentError('CONNECT_TIMEOUT', null) }))).toBe('CONNECT_TIMEOUT')
    expect(notSentCode(new APIConnectionError({ cause: socketError('ECONNRESET') }))).toBeUndefined()
    expect(notSentCode(new APIConnectionTimeoutError())).toBeUndefined()
  })

  it('needs every address of a happy-eyeballs attempt to have failed before sending', () => {
    const all = new AggregateError([Object.assign(new Error(), { code: 'ECONNREFUSED' }), Object.assign(new Error(), { code: 'ENETUNREACH' })])
    expect(notSentCode(new TypeError('fetch failed', { cause: all }))).toBe('ECONNREFUSED')
    const mixed = new AggregateError([Object.assign(new Error(), { code: 'ECONNREFUSED' }), Object.assign(new Error(), { code: 'ECONNRESET' })])
    expect(notSentCode(new TypeError('fetch failed', { cause: mixed }))).toBeUndefined()
  })
})

describe('retryAfterMs', () => {
  it('reads milliseconds, seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250' }), now)).toBe(250)
    expect(retryAfterMs(new Headers({ 'retry-after': '3' }), now)).toBe(3000)
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5000)
    expect(retryAfterMs(new Headers({ 'retry-after': 'Wed, 31 Dec 2025 00:00:00 GMT' }), now)).toBe(0)
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined()
    expect(retryAfterMs(undefined, now)).toBeUndefined()
  })
})
