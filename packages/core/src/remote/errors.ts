/**
 * Why a remote request failed, in the two kinds that decide what a build may do next:
 * - `down`: the remote is definitely not usable from here (connection refused, no such host, the
 *   bucket or our credentials refused). Nothing it holds can be seen, so the documented fallback
 *   applies: one warning, then the local cache only.
 * - `failed`: anything else (timeout, reset, 5xx, a cut body). The object may well exist, so a key
 *   whose read failed is uncertain: not free to generate.
 */
export type RemoteFailureKind = 'down' | 'failed'

export class RemoteError extends Error {
  readonly status: number | undefined
  readonly kind: RemoteFailureKind
  /** A definite answer that another try would not change (e.g. 400): not retried. */
  readonly final: boolean
  constructor(message: string, opts: { cause?: unknown; status?: number | undefined; kind?: RemoteFailureKind; final?: boolean } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'RemoteError'
    this.status = opts.status
    this.kind = opts.kind ?? 'failed'
    this.final = opts.final ?? false
  }
}

const DOWN_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EHOSTUNREACH', 'ENETUNREACH'])
const REFUSED_NAMES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'CredentialsProviderError', 'ExpiredToken', 'InvalidToken'])

export function statusOf(err: unknown): number | undefined {
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
  return typeof meta?.httpStatusCode === 'number' ? meta.httpStatusCode : undefined
}

function codesOf(err: unknown): string[] {
  const out: string[] = []
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, name, errors } = e as { code?: unknown; name?: unknown; errors?: unknown }
    if (typeof code === 'string') out.push(code)
    if (typeof name === 'string') out.push(name)
    // AggregateError from a dual-stack connect (127.0.0.1 and ::1 both refused).
    if (Array.isArray(errors)) for (const inner of errors) out.push(...codesOf(inner))
  }
  return out
}

export function classify(err: unknown): { kind: RemoteFailureKind; final: boolean } {
  if (err instanceof RemoteError) return { kind: err.kind, final: err.final }
  const codes = codesOf(err)
  if (codes.some((c) => DOWN_CODES.has(c) || REFUSED_NAMES.has(c))) return { kind: 'down', final: true }
  const status = statusOf(err)
  if (status === 401 || status === 403) return { kind: 'down', final: true }
  // Another definite client error: the same request would get the same answer.
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) return { kind: 'failed', final: true }
  return { kind: 'failed', final: false }
}

export function isMissing(err: unknown): boolean {
  if (isNoBucket(err)) return false
  const name = (err as { name?: string } | undefined)?.name
  return statusOf(err) === 404 || name === 'NoSuchKey' || name === 'NotFound'
}

/** A 404 for the bucket itself says nothing about a key: the configuration is wrong. */
export function isNoBucket(err: unknown): boolean {
  const e = err as { name?: string; Code?: string } | undefined
  return e?.name === 'NoSuchBucket' || e?.Code === 'NoSuchBucket'
}

export function isLocalFileError(err: unknown): boolean {
  const syscall = (err as { syscall?: unknown } | undefined)?.syscall
  return syscall === 'open' || syscall === 'write' || syscall === 'close'
}
