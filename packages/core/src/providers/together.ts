import { createHash } from 'node:crypto'
import { VidspecError, formatIssues } from '../errors.js'
import type { Logger } from '../logger.js'
import type { MediaHost } from '../remote/media.js'
import { scrub } from './scrub.js'
import type { TogetherErrorContext, TogetherOperation } from './together-errors.js'
import { checkTogetherMedia, togetherCreateBody } from './together-media.js'
import { estimateTogetherCost } from './together-pricing.js'
import type { JobState, JobStatusName, RemoteProvider } from './types.js'

/** Together serves video under /v2 while the SDK's default base is /v1. */
export const TOGETHER_VIDEO_BASE_URL = 'https://api.together.ai/v2'

export interface TogetherProviderOptions {
  /**
   * Needed only to create or poll a job. Without it the provider still keys specs (so approved clips
   * are found in the lockfile, the store and the remote cache) and refuses to spend.
   */
  apiKey?: string | undefined
  /** Used as given (the SDK then sends `${baseURL}/videos`). @default 'https://api.together.ai/v2' */
  baseURL?: string | undefined
  /** Per-request timeout for create and poll. @default 60000 */
  requestTimeoutMs?: number | undefined
  /** Told about job statuses this version does not know. */
  logger?: Logger | undefined
  /** Hosts local media that must reach Together as URLs (the remote cache's bucket); none: such media are refused. */
  media?: MediaHost | undefined
}

const KNOWN_STATUSES = new Set<string>(['queued', 'in_progress', 'completed', 'failed', 'cancelled'])

/** Why a keyless Together provider cannot make `spec`'s clip, and what to do about it. */
export function missingKeyError(spec: string): VidspecError {
  return new VidspecError(
    'PROVIDER_AUTH',
    `${spec}: needs a new generation, and generating with Together needs an API key: set TOGETHER_API_KEY ` +
      '(https://api.together.ai/settings/api-keys). Approved clips (vidspec.lock.json, the cache, the remote cache) ' +
      'are used without a key; use --provider offline for a free preview instead.',
    { file: spec },
  )
}

export function togetherProvider(opts: TogetherProviderOptions): RemoteProvider {
  const baseURL = opts.baseURL?.trim() || TOGETHER_VIDEO_BASE_URL
  const apiKey = opts.apiKey ?? ''
  // The requests and the SDK's error classes load on the first request: a plan or a cached build
  // never pays for importing them.
  const timeoutMs = opts.requestTimeoutMs ?? 60_000
  let api:
    | Promise<{
        requests: typeof import('./together-requests.js')
        mapError: (err: unknown, ctx: TogetherErrorContext) => VidspecError
      }>
    | undefined
  const load = () =>
    (api ??= Promise.all([import('./together-requests.js'), import('./together-errors.js')]).then(([requests, errors]) => ({
      requests,
      mapError: errors.mapTogetherError,
    })))
  const warned = new Set<string>()
  const toJob = (raw: unknown, op: TogetherOperation, fallbackId?: string): JobState =>
    jobState(raw, op, fallbackId, apiKey, (status) => {
      if (warned.has(status)) return
      warned.add(status)
      opts.logger?.warn(`Together reported an unknown job status ${JSON.stringify(status)}; judging the job by its content`)
    })

  return {
    kind: 'remote',
    id: 'together',
    preview: false,
    // Without a key there is no account: such a provider creates nothing and resumes nothing.
    origin: { baseURL, account: apiKey ? keyFingerprint(apiKey) : 'no key' },
    canCreate: apiKey !== '',
    check: (req) => checkTogetherMedia(req, opts.media),
    async create(req, ctx) {
      // Before anything leaves the process (a media upload included): no key, no spending.
      if (!apiKey) throw missingKeyError(req.spec)
      const issues = checkTogetherMedia(req, opts.media)
      if (issues.length > 0) {
        throw new VidspecError('SPEC_INVALID', formatIssues(req.spec, issues), { issues, file: req.spec })
      }
      const body = await togetherCreateBody(req, opts.media)
      const errCtx = { op: 'create' as const, apiKey, baseURL, spec: req.spec, signal: ctx.signal }
      const { requests, mapError } = await load()
      if (ctx.signal?.aborted) throw mapError(ctx.signal.reason, errCtx)
      // The write-ahead intent: if it cannot be written, the request is not sent (its error as is).
      await ctx.beforeSend?.()
      let raw: unknown
      try {
        raw = await requests.createJob(baseURL, body, { apiKey, timeoutMs, signal: ctx.signal })
      } catch (err) {
        throw mapError(err, errCtx)
      }
      return toJob(raw, 'create')
    },
    async poll(jobId, ctx) {
      if (!apiKey) {
        throw new VidspecError(
          'PROVIDER_AUTH',
          `Together job ${jobId} (in the journal) can only be checked with an API key: set TOGETHER_API_KEY; the journal keeps the paid job until then`,
        )
      }
      const errCtx = { op: 'poll' as const, apiKey, baseURL, jobId, signal: ctx.signal }
      const { requests, mapError } = await load()
      if (ctx.signal?.aborted) throw mapError(ctx.signal.reason, errCtx)
      let raw: unknown
      try {
        raw = await requests.retrieveJob(baseURL, jobId, { apiKey, timeoutMs, signal: ctx.signal })
      } catch (err) {
        throw mapError(err, errCtx)
      }
      return toJob(raw, 'poll', jobId)
    },
    // Result URLs are pre-signed and live on another host: the API key must never go there.
    downloadHeaders: () => ({}),
    estimateCost: (req) => estimateTogetherCost(req.request),
  }
}

/** A short, stable fingerprint of the API key: says "another key" without ever showing the key. */
export function keyFingerprint(apiKey: string): string {
  return `key sha256:${createHash('sha256').update(apiKey).digest('hex').slice(0, 8)}`
}

/**
 * Reads a VideoJob. An unknown status is judged by what the job carries (a video URL: completed;
 * an error: failed; neither: still running), so a renamed status can neither lose a paid result nor
 * end a job early: at worst the runner polls until its job timeout and keeps the journal.
 */
function jobState(
  raw: unknown,
  op: TogetherOperation,
  fallbackId: string | undefined,
  apiKey: string,
  onUnknown: (status: string) => void,
): JobState {
  const job = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : undefined
  const id = typeof job?.id === 'string' && job.id ? job.id : fallbackId
  if (!job || !id || typeof job.status !== 'string') {
    const shown = scrub(JSON.stringify(raw) ?? String(raw), apiKey).slice(0, 200)
    if (op === 'create') {
      throw new VidspecError(
        'PROVIDER_CREATE_UNCERTAIN',
        `creating the Together video job: Together answered without a job id (${shown}), so a job may have ` +
          'been started and charged without us knowing its id. vidspec does not retry this on its own, to ' +
          'avoid paying twice: check your jobs and billing at https://api.together.ai, then run again.',
      )
    }
    throw new VidspecError('PROVIDER_UNAVAILABLE', `polling Together job ${fallbackId}: unexpected response ${shown}`, {
      retryable: true,
    })
  }
  const outputs = typeof job.outputs === 'object' && job.outputs !== null ? (job.outputs as Record<string, unknown>) : {}
  const videoUrl = typeof outputs.video_url === 'string' && outputs.video_url ? outputs.video_url : undefined
  const costNumber = typeof outputs.cost === 'string' ? Number(outputs.cost) : outputs.cost
  const cost = typeof costNumber === 'number' && Number.isFinite(costNumber) ? costNumber : undefined
  // A job's error text is the server's to write; like any other server text it must not carry the key.
  const error = jobError(job.error, apiKey) ?? infoErrors(job.info, apiKey)
  return { id, status: statusOf(job.status, videoUrl, error, onUnknown), videoUrl, cost, error }
}

function statusOf(
  raw: string,
  videoUrl: string | undefined,
  error: JobState['error'],
  onUnknown: (status: string) => void,
): JobStatusName {
  const status = raw.toLowerCase()
  if (KNOWN_STATUSES.has(status)) return status as JobStatusName
  if (status === 'canceled') return 'cancelled'
  onUnknown(raw)
  if (videoUrl) return 'completed'
  if (error) return 'failed'
  return 'in_progress'
}

/**
 * Together's older job shape reports failures as "failed: check info.errors" (reference §4.3): a
 * string, a list of strings or of `{ message, code? }`, or one such object. All of it is joined, so
 * the user sees why the job failed instead of "no reason given".
 */
function infoErrors(info: unknown, apiKey: string): JobState['error'] {
  if (typeof info !== 'object' || info === null) return undefined
  const raw = (info as { errors?: unknown }).errors
  const items = Array.isArray(raw) ? raw : [raw]
  const found = items.map((item) => jobError(item, apiKey) ?? jsonError(item, apiKey)).filter((e) => e !== undefined)
  if (found.length === 0) return undefined
  const code = found.find((e) => e.code)?.code
  return { message: found.map((e) => e.message).join('; '), code }
}

/** Anything else non-empty in `info.errors` is shown as JSON (bounded), never dropped. */
function jsonError(item: unknown, apiKey: string): JobState['error'] {
  if (item === null || item === undefined || item === '' || (typeof item === 'object' && Object.keys(item).length === 0)) return undefined
  return { message: scrub(JSON.stringify(item) ?? String(item), apiKey).slice(0, 500) }
}

function jobError(raw: unknown, apiKey: string): JobState['error'] {
  if (typeof raw === 'string' && raw) return { message: scrub(raw, apiKey) }
  if (typeof raw !== 'object' || raw === null) return undefined
  const { message, code } = raw as { message?: unknown; code?: unknown }
  if (typeof message !== 'string' || !message) return undefined
  return { message: scrub(message, apiKey), code: typeof code === 'string' && code ? scrub(code, apiKey) : undefined }
}
