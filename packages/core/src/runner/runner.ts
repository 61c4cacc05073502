import { VidspecError, isVidspecError } from '../errors.js'
import type { Logger, VidspecEvent } from '../logger.js'
import { outputExt } from '../media/geometry.js'
import type { JobState, LocalProvider, Provider, ProviderRequest, RemoteProvider } from '../providers/types.js'
import type { ClipCache, FoundClip } from '../cache/clip-cache.js'
import { removeFile } from '../store/atomic.js'
import { clipEntry, type ClipShape } from '../store/entry.js'
import type { Store } from '../store/index.js'
import type { StoreLock } from '../store/types.js'
import type { Entry, JournaledJob } from '../types.js'
import { checkWholeClip } from './clip-check.js'
import { crashPoint } from './crash-points.js'
import { CreatesFirst } from './creates-first.js'
import { downloadToFile, type DownloadResult } from './download.js'
import { JobDurations } from './durations.js'
import { Flight } from './flight.js'
import { createOnce, unknownJob } from './pay-once.js'
import { sleep, throwIfAborted, withRetry, type RetryPolicy } from './retry.js'
import { Slots } from './slots.js'

export type ProbedClip = ClipShape

export type ProbeFn = (file: string, opts?: { signal?: AbortSignal | undefined }) => Promise<ProbedClip>

export interface PollPolicy {
  intervalMs: number
  maxIntervalMs: number
  /** Give up waiting (the journal is kept, so the next run picks the paid job up again). */
  jobTimeoutMs: number
}

export interface RunnerOptions {
  store: Store
  provider: Provider
  probe: ProbeFn
  concurrency: number
  retry: RetryPolicy
  poll: PollPolicy
  logger: Logger
  /**
   * A lock whose holder cannot be checked (unreadable file) is taken over once its heartbeat is this
   * old. A holder alive on this host is never taken over, whatever its age.
   */
  lockStaleMs?: number | undefined
  /** A lock held from another host is presumed alive this long after its last heartbeat. @default 3_600_000 */
  lockOtherHostStaleMs?: number | undefined
  /** A result download with no byte for this long is abandoned and tried again. @default 60000 */
  downloadIdleTimeoutMs?: number
  /**
   * Create again for keys whose earlier create may have started a job we never heard of. Off by
   * default: that decision can cost money, so a person makes it (`vidspec build --retry-uncertain`).
   */
  retryUncertain?: boolean
  /**
   * Where a key's clip may already be (the store, the lockfile's approved object, the shared bucket):
   * asked before paying, told after generating, and the bucket's claims go through it.
   */
  cache: ClipCache
}

export interface RunResult {
  entry: Entry
  /** False when the store already had it (here, or made meanwhile by another process). */
  generated: boolean
}

export interface RunOptions {
  signal?: AbortSignal | undefined
}

interface RunContext extends RunOptions {
  /** Gives the provider slot back: the job is done on the provider's side. */
  releaseSlot(): void
  /** The key's store lock: re-checked right before a create is sent. */
  lock: StoreLock
  /** This run's create was answered, or it will make none: finished jobs may download (see CreatesFirst). */
  created(): void
}

/** The longest a finished job's download waits for the creates of the runs that took slots (see CreatesFirst). */
const CREATES_FIRST_MAX_MS = 1_000

/**
 * Turns a request into a stored clip, paying at most once per key: in-process single-flight, a
 * cross-process lock per key, and a journal of job ids that a later run resumes instead of creating
 * a new job. Shared by every provider; providers only translate.
 */
export class Runner {
  readonly #opts: RunnerOptions
  /** Jobs the provider works on at once: `concurrency`. */
  readonly #slots: Slots
  /** Finished jobs downloading and being checked at once, so downloads never pile up unbounded. */
  readonly #finishing: Slots
  readonly #inflight = new Map<string, Flight<RunResult>>()
  readonly #started = new Set<string>()
  readonly #durations = new JobDurations()
  readonly #createsFirst = new CreatesFirst(CREATES_FIRST_MAX_MS)

  constructor(opts: RunnerOptions) {
    this.#opts = opts
    this.#slots = new Slots(opts.concurrency)
    this.#finishing = new Slots(opts.concurrency)
  }

  /**
   * Callers asking for a key already in flight here join that run. Each may cancel its own wait; the
   * run itself stops only when no caller is left.
   */
  run(req: ProviderRequest, opts: RunOptions = {}): Promise<RunResult> {
    const existing = this.#inflight.get(req.key)
    if (existing && !existing.cancelled) {
      this.#emit({ type: 'job:waiting', spec: req.spec, key: req.key, reason: 'in-process' })
      return existing.join(opts.signal)
    }
    // A cancelled run may still be unwinding; the new one waits for its lock, then resumes its journal.
    const flight = new Flight((signal) => this.#run(req, { signal }))
    this.#inflight.set(req.key, flight)
    flight.promise
      .finally(() => {
        if (this.#inflight.get(req.key) === flight) this.#inflight.delete(req.key)
      })
      .catch(() => {})
    return flight.join(opts.signal)
  }

  async #run(req: ProviderRequest, opts: RunOptions): Promise<RunResult> {
    const { store, cache } = this.#opts
    const found = await cache.obtain({ key: req.key, spec: req.spec, request: req.request }, { signal: opts.signal })
    if (found) return this.fromCache(found)
    this.#emit({ type: 'spec:queued', spec: req.spec, key: req.key })
    const release = await this.#slots.take(opts.signal)
    const created = this.#createsFirst.begin()
    try {
      throwIfAborted(opts.signal)
      const lock = await store.lock(req.key, {
        signal: opts.signal,
        staleMs: this.#opts.lockStaleMs,
        otherHostStaleMs: this.#opts.lockOtherHostStaleMs,
        onWait: (holder) => {
          // Another process holds the key, maybe for long: downloads here do not wait for it.
          created()
          this.#emit({ type: 'job:waiting', spec: req.spec, key: req.key, reason: 'lock' })
          if (holder && !holder.sameHost) {
            // Waiting may be long: say why, and what would end it.
            this.#opts.logger.warn(
              `${req.spec}: waiting for key ${req.key.slice(0, 12)}, locked by pid ${holder.pid} on host ${holder.hostname} ` +
                `(last heartbeat ${Math.round(holder.heartbeatAgeMs / 1000)} s ago); a holder on another host is presumed alive ` +
                `until its heartbeat is ${Math.round((this.#opts.lockOtherHostStaleMs ?? 3_600_000) / 60_000)} min old (locks.otherHostStaleMs)`,
            )
          }
        },
      })
      try {
        // Another process may have finished it while we waited for the lock.
        const made = await cache.local(req.key)
        if (made) return { entry: await this.#settled(made), generated: false }
        // The last point where a superseded run may stop: from here on work (and money) is spent.
        throwIfAborted(opts.signal)
        const provider = this.#opts.provider
        const claim = provider.kind === 'remote' ? await this.#claim(provider, req, opts) : undefined
        if (claim?.kind === 'made') return { entry: claim.entry, generated: false }
        this.#started.add(req.key)
        try {
          this.#emit({ type: 'spec:generating', spec: req.spec, key: req.key, provider: provider.id })
          const ctx: RunContext = { ...opts, releaseSlot: release, lock, created }
          // A local render makes no create, and no download waits for it.
          if (provider.kind === 'local') created()
          const entry =
            provider.kind === 'local' ? await this.#render(provider, req, ctx) : await this.#remote(provider, req, ctx)
          await cache.share(entry)
          return { entry, generated: true }
        } finally {
          if (claim?.kind === 'owned') await this.#releaseClaim(req.key, claim)
        }
      } finally {
        this.#started.delete(req.key)
        await lock.release()
      }
    } finally {
      created()
      release()
    }
  }

  /**
   * What a run answers for a clip the cache found, for a caller that has just asked the cache itself
   * (a build's first pass over every spec): a stored clip may still have a journal a crash left
   * behind, settled here, not resumed.
   */
  async fromCache(found: FoundClip): Promise<RunResult> {
    return { entry: found.tier === 'local' ? await this.#settled(found.entry) : found.entry, generated: false }
  }

  /**
   * A run stopped between committing a clip and dropping its journal leaves a journal for a job that
   * is already stored; it goes when the stored clip says it came from that very job.
   */
  async #settled(entry: Entry): Promise<Entry> {
    if (entry.jobId === undefined) return entry
    const journal = await this.#opts.store.readJournal(entry.key)
    if (journal?.jobId === entry.jobId) await this.#opts.store.deleteJournal(entry.key, { durable: false })
    return entry
  }

  /**
   * Claims the key in the shared bucket before a create. Not when this machine already holds the job
   * (a journal to resume) or is barred from creating (an uncertain create): the claim is for paying.
   */
  async #claim(provider: RemoteProvider, req: ProviderRequest, opts: RunOptions) {
    const { store, cache } = this.#opts
    if (!cache.claims) return undefined
    const journal = await store.readJournal(req.key)
    // Resuming a paid job: hold the claim for it meanwhile (re-owning the one kept for it), so no other machine pays.
    if (journal?.jobId !== undefined && journal.provider === provider.id) return cache.claims.resume(req.key, req.spec, journal.jobId, opts.signal)
    if (!this.#opts.retryUncertain && (await store.readUncertain(req.key))) return undefined
    return cache.claims.claim(req.key, req.spec, opts.signal)
  }

  /** A paid job may still be running (journal kept) or unknown (uncertain): then the claim is kept for this machine's job. */
  async #releaseClaim(key: string, claim: { release(): Promise<void>; keep(): Promise<void> }): Promise<void> {
    const { store } = this.#opts
    if ((await store.readJournal(key)) || (await store.readUncertain(key))) return claim.keep()
    await claim.release()
  }

  /** Whether the provider is working on `key` for this process (from here on a job may be paid). */
  isGenerating(key: string): boolean {
    return this.#started.has(key)
  }

  /**
   * Drops a run that has not started generating yet (a spec edited again while its job was queued).
   * A run already generating is left alone: it may be paid for, and its clip is kept.
   */
  cancelQueued(key: string): boolean {
    const flight = this.#inflight.get(key)
    if (!flight || flight.cancelled || this.#started.has(key)) return false
    flight.cancel(new VidspecError('ABORTED', 'superseded by a newer edit before it started'))
    return true
  }

  async #render(provider: LocalProvider, req: ProviderRequest, opts: RunOptions): Promise<Entry> {
    const tmp = this.#opts.store.tempPath(outputExt(req.request.output_format))
    try {
      const { cost } = await provider.render(req, tmp, { signal: opts.signal })
      // A commit takes the temp file (moves or removes it): only a failure leaves one to clean up.
      return await this.#commit(req, tmp, { provider: provider.id, preview: provider.preview, cost }, opts)
    } catch (err) {
      await removeFile(tmp)
      throw err
    }
  }

  async #remote(provider: RemoteProvider, req: ProviderRequest, opts: RunContext): Promise<Entry> {
    const { store } = this.#opts
    const found = await store.readJournal(req.key)
    // A paid job this provider already started for the key: resumed, never created again.
    const resumed: JournaledJob | undefined = found?.jobId !== undefined && found.provider === provider.id ? { ...found, jobId: found.jobId } : undefined
    let journal: JournaledJob
    let job: JobState
    let sentAt: number | undefined
    if (resumed) {
      journal = resumed
      this.#emit({ type: 'job:resumed', spec: req.spec, key: req.key, jobId: journal.jobId })
      opts.created()
      job = await this.#poll(provider, req, journal, opts)
    } else {
      ;({ job, journal, sentAt } = await createOnce(provider, req, opts, {
        store,
        retry: this.#opts.retry,
        retryUncertain: this.#opts.retryUncertain ?? false,
        onRetry: (err, attempt, delayMs) => this.#retried(req, err, attempt, delayMs),
        onCreated: (jobId) => this.#emit({ type: 'job:created', spec: req.spec, key: req.key, jobId }),
      }))
      opts.created()
    }
    job = await this.#waitForCompletion(provider, req, job, journal, { ...opts, fresh: !resumed, sentAt })
    // The provider is done with it: the next job may start while this one downloads, and its create goes first.
    opts.releaseSlot()
    await this.#createsFirst.yieldTo(opts.signal)
    const done = await this.#finishing.take()
    try {
      return await this.#downloadAndCommit(provider, req, job, journal, opts)
    } finally {
      done()
    }
  }

  async #poll(provider: RemoteProvider, req: ProviderRequest, journal: JournaledJob, opts: RunOptions): Promise<JobState> {
    try {
      const job = await withRetry(() => provider.poll(journal.jobId, { signal: opts.signal }), this.#opts.retry, {
        signal: opts.signal,
        onRetry: (err, attempt, delayMs) => this.#retried(req, err, attempt, delayMs),
      })
      crashPoint('after-poll')
      return job
    } catch (err) {
      if (isVidspecError(err, 'JOB_UNKNOWN')) throw unknownJob(req, journal, provider, err)
      throw err
    }
  }

  async #waitForCompletion(
    provider: RemoteProvider,
    req: ProviderRequest,
    first: JobState,
    journal: JournaledJob,
    opts: RunOptions & { fresh: boolean; sentAt?: number | undefined },
  ): Promise<JobState> {
    const { poll } = this.#opts
    const started = opts.sentAt ?? Date.now()
    // A job just created, of a kind seen finishing here, is not asked about before it can be done
    // (see JobDurations), then at the moments its kind's times point to; its progress is still told
    // at every interval.
    const asks = opts.fresh ? this.#durations.asks(provider.id, req, poll.intervalMs).map((ms) => started + ms) : []
    let job = first
    let interval = poll.intervalMs
    /** When the last poll was sent, and the one before it, which saw the job still running (else none was sent). */
    let askedAt: number | undefined
    let runningAt: number | undefined
    while (job.status === 'queued' || job.status === 'in_progress') {
      const elapsedMs = Date.now() - started
      if (elapsedMs > poll.jobTimeoutMs) {
        throw new VidspecError(
          'JOB_TIMEOUT',
          `${req.spec}: job ${job.id} still ${job.status} after ${Math.round(elapsedMs / 1000)} s; it is kept in the journal and the next build resumes it without paying again`,
        )
      }
      this.#emit({ type: 'job:progress', spec: req.spec, key: req.key, status: job.status, elapsedMs })
      // Asks the wait overran (a slow answer or a busy thread) are skipped, never sent back to back.
      while (asks.length > 1 && (asks[1] ?? 0) <= Date.now()) asks.shift()
      const at = asks[0]
      await sleep(at === undefined ? interval : Math.min(interval, Math.max(0, at - Date.now())), opts.signal)
      interval = Math.min(poll.maxIntervalMs, Math.round(interval * 1.5))
      if (at !== undefined) {
        if (Date.now() < at) continue
        asks.shift()
        // Near its likely end: asked about at the first interval again, not a backed-off one.
        interval = poll.intervalMs
      }
      runningAt = askedAt
      askedAt = Date.now()
      job = await this.#poll(provider, req, journal, opts)
    }
    if (opts.fresh && job.status === 'completed') {
      this.#durations.record(provider.id, req, { doneMs: (askedAt ?? started) - started, runningMs: runningAt === undefined ? undefined : runningAt - started })
    }
    if (job.status !== 'completed') {
      // A failed or cancelled job is final: nothing left to resume.
      await this.#opts.store.deleteJournal(req.key)
      const reason = job.error ? `${job.error.message}${job.error.code ? ` (${job.error.code})` : ''}` : 'no reason given'
      throw new VidspecError('JOB_FAILED', `${req.spec}: the provider reports job ${job.id} ${job.status}: ${reason}`)
    }
    return job
  }

  async #downloadAndCommit(
    provider: RemoteProvider,
    req: ProviderRequest,
    completed: JobState,
    journal: JournaledJob,
    opts: RunOptions,
  ): Promise<Entry> {
    const ext = outputExt(req.request.output_format)
    let job = completed
    const entry = await withRetry(
      async (attempt) => {
        // Result URLs expire: after a failed download ask the provider for the job (and a fresh URL) again.
        if (attempt > 0) job = await this.#poll(provider, req, journal, opts)
        if (!job.videoUrl) {
          throw new VidspecError('JOB_FAILED', `${req.spec}: job ${job.id} completed without a video URL`)
        }
        const tmp = this.#opts.store.tempPath(ext)
        try {
          crashPoint('before-download')
          const download = await downloadToFile(job.videoUrl, tmp, {
            signal: opts.signal,
            headers: provider.downloadHeaders?.(job.videoUrl),
            idleTimeoutMs: this.#opts.downloadIdleTimeoutMs,
            durable: true,
          })
          crashPoint('before-commit')
          return await this.#commit(req, tmp, { provider: provider.id, preview: false, cost: job.cost, jobId: job.id }, opts, download)
        } catch (err) {
          // The commit took the file if it succeeded; a failure may leave it.
          await removeFile(tmp)
          // A download that probes as garbage is as good as truncated: fetch it again.
          if (isVidspecError(err, 'OUTPUT_INVALID')) {
            throw new VidspecError('DOWNLOAD_FAILED', err.message, { cause: err, retryable: true })
          }
          throw err
        }
      },
      this.#opts.retry,
      { signal: opts.signal, onRetry: (err, attempt, delayMs) => this.#retried(req, err, attempt, delayMs) },
    )
    crashPoint('after-commit')
    // The entry is durable and names this job: a journal a power cut brings back goes in #settled.
    await this.#opts.store.deleteJournal(journal.key, { durable: false })
    return entry
  }

  async #commit(
    req: ProviderRequest,
    tmp: string,
    meta: { provider: string; preview: boolean; cost?: number | undefined; jobId?: string | undefined },
    opts: RunOptions,
    download?: DownloadResult,
  ): Promise<Entry> {
    const probed = await this.#opts.probe(tmp, { signal: opts.signal })
    await checkWholeClip(req, tmp, probed, download, this.#opts.logger)
    return this.#opts.store.commit(
      tmp,
      clipEntry(probed, {
        key: req.key,
        provider: meta.provider,
        preview: meta.preview,
        model: req.request.model,
        jobId: meta.jobId,
        cost: meta.cost,
        seed: req.request.seed,
        spec: req.spec,
        request: req.request,
      }),
      download && { digest: download.digest, size: download.bytes, synced: download.synced },
    )
  }

  #retried(req: ProviderRequest, err: unknown, attempt: number, delayMs: number): void {
    const reason = err instanceof Error ? err.message : String(err)
    this.#emit({ type: 'job:retry', spec: req.spec, key: req.key, attempt, delayMs, reason })
  }

  #emit(event: VidspecEvent): void {
    this.#opts.logger.event?.(event)
  }
}


