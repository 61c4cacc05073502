import { VidspecError, isVidspecError } from '../errors.js'
import type { JobState, ProviderRequest, RemoteProvider } from '../providers/types.js'
import type { Store } from '../store/index.js'
import type { StoreLock } from '../store/types.js'
import type { JournaledJob, JournalRecord, UncertainCreate } from '../types.js'
import { crashPoint, failPoint } from './crash-points.js'
import { throwIfAborted, withRetry, type RetryPolicy } from './retry.js'

export interface CreateOptions {
  signal?: AbortSignal | undefined
  /** The key's store lock: re-checked right before the create is sent. */
  lock: StoreLock
}

export interface CreateDeps {
  store: Store
  retry: RetryPolicy
  retryUncertain: boolean
  onRetry(err: unknown, attempt: number, delayMs: number): void
  onCreated(jobId: string): void
}

/**
 * Pays for a key at most once. The intent is in the journal (fsynced) before the request leaves the
 * process, and the job id joins it the moment the answer arrives; a process stopped in between leaves
 * the intent, which every later run treats as uncertain. Only an answer that proves no job was made
 * (the provider's `retryable`) is tried again. A create, once sent, is never aborted half-way.
 */
export async function createOnce(
  provider: RemoteProvider,
  req: ProviderRequest,
  opts: CreateOptions,
  deps: CreateDeps,
): Promise<{ job: JobState; journal: JournaledJob; sentAt: number | undefined }> {
  const { store } = deps
  const earlier = await store.readUncertain(req.key)
  if (earlier && !deps.retryUncertain) {
    await settleIntent(store, req.key, earlier)
    throw new VidspecError(
      'PROVIDER_CREATE_UNCERTAIN',
      `${req.spec}: an earlier create (${earlier.at}) may have started a paid job whose id never arrived (${earlier.reason}). ` +
        'Check the provider dashboard; if no job ran, build again with --retry-uncertain to create one.',
    )
  }
  const intent: JournalRecord = {
    version: 1,
    key: req.key,
    provider: provider.id,
    spec: req.spec,
    createdAt: new Date().toISOString(),
    ...(provider.origin ? { origin: provider.origin } : {}),
  }
  let sent = false
  /** When the create that was answered left (Date.now()): the job's running time counts from there. */
  let sentAt: number | undefined
  let wroteIntent = false
  let uncertain = false
  const beforeSend = async (): Promise<void> => {
    throwIfAborted(opts.signal)
    crashPoint('before-intent')
    if (!(await opts.lock.verify())) {
      throw new VidspecError(
        'LOCK_LOST',
        `${req.spec}: another process took the lock on key ${req.key.slice(0, 12)} over before the create was sent; nothing was sent`,
      )
    }
    intent.createdAt = new Date().toISOString()
    try {
      failPoint('intent-write')
      await store.writeJournal(intent)
    } catch (err) {
      throw storeWriteFailed(`${req.spec}: the intent for the create could not be written to the journal`, err, 'nothing was sent')
    }
    wroteIntent = true
    crashPoint('after-intent')
    sent = true
    sentAt = Date.now()
  }
  let job: JobState
  try {
    job = await withRetry(
      async () => {
        throwIfAborted(opts.signal)
        sent = false
        try {
          return await provider.create(req, { beforeSend })
        } catch (err) {
          // After sending, only an error the provider classified as a refusal proves no job exists.
          if (sent && !(isVidspecError(err) && err.code !== 'PROVIDER_CREATE_UNCERTAIN')) {
            uncertain = true
            await markUncertain(store, req, provider.id, err)
          }
          throw err
        }
      },
      deps.retry,
      { signal: opts.signal, onRetry: deps.onRetry },
    )
  } catch (err) {
    // Refused, or never sent: no job exists, so the intent goes (never another process's record).
    if (wroteIntent && !uncertain && !isVidspecError(err, 'LOCK_LOST')) await dropIntent(store, req.key)
    throw err
  }
  crashPoint('after-create-answer')
  const journal: JournaledJob = { ...intent, jobId: job.id }
  try {
    failPoint('journal-write')
    await store.writeJournal(journal)
  } catch (err) {
    // The intent stays on disk (the rename never happened): every later run sees this key as uncertain.
    throw new VidspecError(
      'PROVIDER_CREATE_UNCERTAIN',
      `${req.spec}: job ${job.id} was created, but its id could not be written to the journal (${describe(err)}). ` +
        `The intent stays, so no run pays for this key again on its own. Fix the store (disk space, permissions), ` +
        `note the job id ${job.id}, and check it in the provider dashboard before building with --retry-uncertain.`,
      { cause: err },
    )
  }
  if (earlier) await store.clearUncertain(req.key)
  crashPoint('after-journal')
  deps.onCreated(job.id)
  throwIfAborted(opts.signal)
  return { job, journal, sentAt }
}

/** Records that a sent create's answer was lost; the intent goes only once the marker is on disk. */
async function markUncertain(store: Store, req: ProviderRequest, provider: string, err: unknown): Promise<void> {
  try {
    await store.markUncertain({ version: 1, key: req.key, provider, spec: req.spec, at: new Date().toISOString(), reason: describe(err) })
    await dropIntent(store, req.key)
  } catch {
    // The intent is still there, and an intent without a job id is just as uncertain to a later run.
  }
}

/** An intent a stopped run left becomes an uncertain marker, so the journal holds only jobs with ids. */
async function settleIntent(store: Store, key: string, uncertain: UncertainCreate): Promise<void> {
  const journal = await store.readJournal(key)
  if (!journal || journal.jobId !== undefined) return
  try {
    await store.markUncertain(uncertain)
    await store.deleteJournal(key)
  } catch {
    // Left as an intent: still uncertain.
  }
}

/** Removes the journal of `key` only while it is an intent: a record with a job id is never dropped here. */
async function dropIntent(store: Store, key: string): Promise<void> {
  const journal = await store.readJournal(key)
  if (!journal || journal.jobId !== undefined) return
  // Failing to remove it is safe: a later run sees an uncertain key rather than paying again.
  await store.deleteJournal(key).catch(() => {})
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function storeWriteFailed(what: string, err: unknown, consequence: string): VidspecError {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined
  const hint = code === 'ENOSPC' ? ': the disk is full' : code === 'EACCES' || code === 'EPERM' ? ': no permission to write the store' : ''
  return new VidspecError('STORE_WRITE_FAILED', `${what}${hint} (${describe(err)}); ${consequence}`, { cause: err })
}

/** A poll's 404: the job stays journaled, and the message says where it was made and where we looked. */
export function unknownJob(req: ProviderRequest, journal: JournaledJob, provider: RemoteProvider, err: VidspecError): VidspecError {
  const now = provider.origin
  const then = journal.origin
  const where = (o: typeof now) => (o ? `${o.baseURL} with the API key ${o.account}` : 'an unknown base URL and key')
  const same = now && then && now.baseURL === then.baseURL && now.account === then.account
  const created = same
    ? 'it was created with this same base URL and key, so the provider itself may have dropped it'
    : `it was created with ${where(then)} on ${journal.createdAt}; this run used ${where(now)}`
  return new VidspecError(
    'JOB_UNKNOWN',
    `${req.spec}: job ${journal.jobId} is not known to this key or base URL; ${created}. The job stays in the journal ` +
      'and nothing is paid again: run with the TOGETHER_BASE_URL and TOGETHER_API_KEY it was created with to resume it, ' +
      `or, only if the job is really gone, \`vidspec forget ${req.spec}\` (the next build then pays for a new one).`,
    { cause: err, status: err.status, file: req.spec },
  )
}
