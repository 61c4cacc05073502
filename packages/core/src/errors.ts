/**
 * One error type for everything vidspec reports. The `code` is stable (scripts and the CLI switch on it);
 * the message says what went wrong, where, and what to do.
 */
export type ErrorCode =
  | 'SPEC_INVALID'
  | 'SPEC_LOAD_FAILED'
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'PROVIDER_AUTH'
  | 'PROVIDER_PAYMENT'
  | 'PROVIDER_BAD_REQUEST'
  | 'PROVIDER_RATE_LIMITED'
  | 'PROVIDER_UNAVAILABLE'
  | 'PROVIDER_CREATE_UNCERTAIN'
  /** The shared cache may hold the key (or another machine may be paying for it) but could not be read: not generated. */
  | 'REMOTE_UNCERTAIN'
  | 'JOB_FAILED'
  | 'JOB_UNKNOWN'
  | 'LOCK_LOST'
  | 'STORE_WRITE_FAILED'
  | 'JOB_TIMEOUT'
  | 'DOWNLOAD_FAILED'
  | 'OUTPUT_INVALID'
  /** A rendition failed one of its checks (codec, size, duration, audio, fast start): it was not stored. */
  | 'RENDITION_INVALID'
  | 'CACHE_CORRUPT'
  | 'LOCK_TIMEOUT'
  | 'FROZEN_MISS'
  | 'BUDGET_EXCEEDED'
  | 'ABORTED'
  | 'INTERNAL'

export interface SpecIssue {
  /** Dotted field path, e.g. `media.frame_images[0].input_image`. Empty for the whole spec. */
  path: string
  /** The offending value, rendered for humans (already truncated). */
  value: string
  /** What is allowed, e.g. `an integer from 10 to 50`. */
  message: string
}

export interface VidspecErrorOptions {
  cause?: unknown
  /** Absolute or project-relative file the error is about. */
  file?: string
  issues?: SpecIssue[]
  /** For retryable provider errors: how long the server asked us to wait. */
  retryAfterMs?: number
  /** Whether the runner may try the same operation again. */
  retryable?: boolean
  /** HTTP status, when the error came from a response. */
  status?: number
}

export class VidspecError extends Error {
  readonly code: ErrorCode
  readonly file: string | undefined
  readonly issues: SpecIssue[]
  readonly retryAfterMs: number | undefined
  readonly retryable: boolean
  readonly status: number | undefined

  constructor(code: ErrorCode, message: string, options: VidspecErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'VidspecError'
    this.code = code
    this.file = options.file
    this.issues = options.issues ?? []
    this.retryAfterMs = options.retryAfterMs
    this.retryable = options.retryable ?? false
    this.status = options.status
  }
}

export function isVidspecError(err: unknown, code?: ErrorCode): err is VidspecError {
  return err instanceof VidspecError && (code === undefined || err.code === code)
}

/** CLI exit codes, as DESIGN.md fixes them. */
export const ExitCode = {
  ok: 0,
  generationFailed: 1,
  badInput: 2,
  frozenMiss: 3,
} as const

export function exitCodeFor(err: unknown): number {
  if (!(err instanceof VidspecError)) return ExitCode.generationFailed
  switch (err.code) {
    case 'SPEC_INVALID':
    case 'SPEC_LOAD_FAILED':
    case 'CONFIG_INVALID':
    case 'USAGE':
      return ExitCode.badInput
    case 'FROZEN_MISS':
    case 'BUDGET_EXCEEDED':
      return ExitCode.frozenMiss
    default:
      return ExitCode.generationFailed
  }
}

/** Renders a value for an error message: short, single-line, never a whole data URI. */
export function showValue(value: unknown): string {
  let text: string
  if (typeof value === 'string') text = JSON.stringify(value)
  else if (value === undefined) text = 'undefined'
  else {
    try {
      text = JSON.stringify(value) ?? String(value)
    } catch {
      text = String(value)
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

/** Formats a spec error with every issue on its own line: file, field, value, what is allowed. */
export function formatIssues(file: string, issues: SpecIssue[]): string {
  const lines = issues.map((i) => `  - ${i.path || '(spec)'}: ${i.message} (got ${i.value})`)
  return `${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${lines.join('\n')}`
}
