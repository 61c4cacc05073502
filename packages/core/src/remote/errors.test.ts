import { describe, expect, it } from 'vitest'
import { RemoteError, classify, isMissing } from './errors.js'

const http = (status: number, name = 'Error') => Object.assign(new Error('x'), { name, $metadata: { httpStatusCode: status } })
const sys = (code: string) => Object.assign(new Error(code), { code })

describe('remote failure kinds', () => {
  it('only a definitely unusable remote is "down" (local only); everything else is a per-key failure', () => {
    expect(classify(sys('ECONNREFUSED'))).toEqual({ kind: 'down', final: true })
    expect(classify(sys('ENOTFOUND'))).toEqual({ kind: 'down', final: true })
    // Node's dual-stack connect reports both refusals inside an AggregateError.
    expect(classify(new AggregateError([sys('ECONNREFUSED'), sys('ECONNREFUSED')], 'connect'))).toMatchObject({ kind: 'down' })
    expect(classify(http(403, 'AccessDenied'))).toMatchObject({ kind: 'down' })
    expect(classify(new Error('x', { cause: sys('EAI_AGAIN') }))).toMatchObject({ kind: 'down' })

    expect(classify(sys('ECONNRESET'))).toEqual({ kind: 'failed', final: false })
    expect(classify(http(503))).toEqual({ kind: 'failed', final: false })
    expect(classify(http(429))).toEqual({ kind: 'failed', final: false })
    expect(classify(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toEqual({ kind: 'failed', final: false })
    expect(classify(http(400))).toEqual({ kind: 'failed', final: true })
    expect(classify(new RemoteError('cut', { kind: 'failed' }))).toEqual({ kind: 'failed', final: false })
  })

  it('a missing key is not a missing bucket', () => {
    expect(isMissing(http(404, 'NoSuchKey'))).toBe(true)
    expect(isMissing(http(404, 'NoSuchBucket'))).toBe(false)
    expect(isMissing(http(500))).toBe(false)
  })
})
