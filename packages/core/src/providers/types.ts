import type { SpecIssue } from '../errors.js'
import type { JobOrigin, NormalizedRequest, ResolvedMedia } from '../types.js'

/** What a provider sees of a spec: the normalized request and how each media ref resolved. */
export interface ProviderRequest {
  key: string
  request: NormalizedRequest
  /** Written ref (as in `request.media`) -> its resolution. */
  media: Map<string, ResolvedMedia>
  /** Project-relative spec path, for messages. */
  spec: string
}

export type JobStatusName = 'queued' | 'in_progress' | 'completed' | 'failed' | 'cancelled'

export interface JobState {
  id: string
  status: JobStatusName
  /** Set when completed: where to download the clip from (it expires: download at once). */
  videoUrl?: string | undefined
  /** Dollars, as the provider reports it. */
  cost?: number | undefined
  error?: { message: string; code?: string | undefined } | undefined
}

export interface CallContext {
  signal?: AbortSignal | undefined
}

export interface CreateContext extends CallContext {
  /**
   * Awaited by the provider right before the create request leaves the process, after everything that
   * can fail locally (reading media, building the body). The runner writes the durable intent and
   * re-checks its lock here; if it throws, the provider must not send the request and rethrows.
   */
  beforeSend?: (() => Promise<void>) | undefined
}

/**
 * A provider is a small translation layer. Retries, polling, locking, journaling and downloading
 * belong to the runner. Providers throw `VidspecError`s: `retryable` says whether the runner may try
 * again, and for `create` a retryable error must mean the request provably started no job.
 */
export interface RemoteProvider {
  kind: 'remote'
  /** Namespace in the key; never shared by two providers. */
  id: string
  preview: false
  /** False when the provider has no credentials: it can key specs but not create jobs (see `create`). */
  canCreate?: boolean
  /** Rejects, before any request, what this provider cannot send (issues as in SPEC_INVALID). */
  check?(req: ProviderRequest): SpecIssue[]
  /** Where jobs are created (base URL, account fingerprint): journaled with each job. */
  readonly origin?: JobOrigin | undefined
  create(req: ProviderRequest, ctx: CreateContext): Promise<JobState>
  poll(jobId: string, ctx: CallContext): Promise<JobState>
  /** Headers the runner sends when downloading a result URL (none for signed URLs). */
  downloadHeaders?(url: string): Record<string, string>
  /** Best known cost estimate in dollars, for budget guards. */
  estimateCost?(req: ProviderRequest): number | undefined
}

/** A provider that renders on this machine (the offline preview renderer). */
export interface LocalProvider {
  kind: 'local'
  id: string
  preview: boolean
  check?(req: ProviderRequest): SpecIssue[]
  /** Writes the finished clip to `outFile` (a temp path the runner owns). */
  render(req: ProviderRequest, outFile: string, ctx: CallContext): Promise<{ cost?: number }>
}

export type Provider = RemoteProvider | LocalProvider

export type ProviderName = 'together' | 'offline'
