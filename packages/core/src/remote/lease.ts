import { VidspecError } from '../errors.js'
import type { Logger } from '../logger.js'
import { sleep } from '../runner/retry.js'
import type { Store } from '../store/index.js'
import type { Entry } from '../types.js'
import { isClaimRecord, remotePaths, type ClaimRecord } from './layout.js'
import { RemoteError } from './errors.js'
import type { JsonRead, Quick, S3Bucket } from './s3.js'

/** How claims behave in time. Tests make these small; the defaults suit real buckets and jobs. */
export interface LeaseTiming {
  /** How often an owner rewrites its claim while it works. */
  heartbeatMs: number
  /** A claim whose last heartbeat is older than this, by the bucket's clock, may be taken over. */
  staleMs: number
  /** How long a machine waits for a live owner's clip before it gives up (without paying). */
  waitMs: number
}

export type ClaimOutcome =
  /** This process may pay. `release` after the write-back; `keep` when a paid job is left unresolved. */
  | { kind: 'owned'; release(): Promise<void>; keep(): Promise<void> }
  /** Another machine made it meanwhile; it is in the local store now. */
  | { kind: 'made'; entry: Entry }
  /** No claim taken (read-only, or the remote is down): go on with the local lock alone. */
  | { kind: 'none' }

/** A takeover that keeps losing (the claim moves every time, or the bucket's versions lie) stops here. */
const MAX_TAKEOVERS = 4
/** Stale claims seen without a version to take them over by, before giving up. */
const MAX_UNVERSIONED = 3
/** The last write of a claim while the process stops (SIGINT/SIGTERM): one try, briefly. */
const STOPPING: Quick = { once: true, timeoutMs: 1_000 }

export interface LeaseDeps {
  bucket: S3Bucket
  store: Store
  logger: Logger
  owner: string
  /** Stable across this store's runs (hostname and store folder), unlike `owner`. */
  machine: string
  timing: LeaseTiming
  poll: { intervalMs: number; maxIntervalMs: number }
}

export function uncertain(spec: string, why: string, cause?: unknown): VidspecError {
  return new VidspecError('REMOTE_UNCERTAIN', `${spec}: not generated: ${why}. Nothing was paid; build again once the remote cache answers.`, {
    cause,
  })
}

/** The claim's age by the bucket's clock (its Date minus the claim's Last-Modified), when both are known. */
function ageOf(read: JsonRead): number | undefined {
  if (!read.date || !read.lastModified) return undefined
  return read.date.getTime() - read.lastModified.getTime()
}

/**
 * Cross-machine single-flight: `claims/<key>.json`, written with If-None-Match. The loser waits for
 * the winner's clip. A claim is taken over only when its own heartbeat is stale by the bucket's
 * clock, with If-Match on the exact version judged stale; a lost takeover re-reads and re-judges.
 */
export class Leases {
  readonly #d: LeaseDeps
  readonly #held = new Set<Lease>()

  constructor(deps: LeaseDeps) {
    this.#d = deps
  }

  /** `lookup` fetches the key's clip if the bucket has it (throws RemoteError when it cannot tell). */
  async acquire(key: string, spec: string, signal: AbortSignal | undefined, lookup: () => Promise<Entry | undefined>): Promise<ClaimOutcome> {
    const { bucket, logger, timing, poll } = this.#d
    const path = remotePaths.claim(key)
    const deadline = Date.now() + timing.waitMs
    let interval = poll.intervalMs
    let takeovers = 0
    let unversioned = 0
    let announced = false
    for (let round = 0; ; round++) {
      if (round > 0) {
        if (Date.now() > deadline) throw uncertain(spec, `another machine still holds its claim in ${bucket.where} after ${timing.waitMs} ms`)
        await sleep(interval, signal)
        interval = Math.min(poll.maxIntervalMs, Math.round(interval * 1.5))
      }
      const record = this.#record(key, spec)
      const put = await bucket.putJson(path, record, { ifNoneMatch: true }, signal)
      if (put !== false) return this.#won(key, spec, record, put, signal, lookup)
      const made = await lookup()
      if (made) return { kind: 'made', entry: made }
      const held = await bucket.getJson(path, signal)
      // Released without a clip (the owner's generation failed): claim it ourselves.
      if (!held) continue
      const current = held.parsed && isClaimRecord(held.value) ? held.value : undefined
      // Our own create, retried after its answer was lost, had landed.
      if (current?.owner === this.#d.owner) return this.#won(key, spec, current, held.etag ?? '', signal, lookup)
      const who = current ? `${current.owner}${current.job ? `, job ${current.job.jobId}` : ''}` : 'an unreadable claim'
      if (current?.kept) {
        // This very store kept it (its run ended unresolved) and now creates again (--retry-uncertain, or its journal is gone).
        if (current.machine === this.#d.machine && held.etag) {
          const took = await bucket.putJson(path, record, { ifMatch: held.etag }, signal)
          if (took !== false) return this.#won(key, spec, record, took, signal, lookup)
          continue
        }
        throw uncertain(
          spec,
          `its paid job is kept by another machine (${who}) until that machine resumes it (if that machine is gone for good, delete ${bucket.key(path)})`,
        )
      }
      const age = ageOf(held)
      if (age === undefined || age <= timing.staleMs) {
        if (!announced) {
          announced = true
          logger.info(`${spec}: another machine is generating it (${who}); waiting for its clip`)
        }
        continue
      }
      // Its owner died between sending a create and learning the job id: whether it paid is unknown.
      if (current?.intent && !current.job) {
        throw uncertain(
          spec,
          `its claim's owner (${who}) stopped while a create may have been in flight (no job id reached the claim); build on that machine, or check the provider's dashboard and delete ${bucket.key(path)}`,
        )
      }
      if (!held.etag) {
        if (++unversioned > MAX_UNVERSIONED) throw uncertain(spec, `its stale claim in ${bucket.where} has no version (ETag) to take it over by safely`)
        continue
      }
      if (++takeovers > MAX_TAKEOVERS) throw uncertain(spec, `its stale claim in ${bucket.where} could not be taken over (it changed on every try)`)
      const took = await bucket.putJson(path, record, { ifMatch: held.etag }, signal)
      // Someone moved it since our read (a takeover, a heartbeat): read again and judge again.
      if (took === false) continue
      logger.warn(`${spec}: took over a stale remote claim (held by ${who}; its last heartbeat was ${Math.round(age / 1000)} s old by the bucket's clock)`)
      if (current?.job) await this.#adopt(key, spec, current.job)
      return this.#won(key, spec, record, took, signal, lookup)
    }
  }

  /**
   * A resumed journal: re-own the claim this machine kept for the job (or claim it afresh), so other
   * machines wait for it. Never fails the resume: the job is paid already.
   */
  async resume(key: string, spec: string, jobId: string, signal: AbortSignal | undefined): Promise<ClaimOutcome> {
    const { bucket } = this.#d
    const path = remotePaths.claim(key)
    const journal = await this.#d.store.readJournal(key)
    const record: ClaimRecord = { ...this.#record(key, spec), ...(journal ? { job: { provider: journal.provider, jobId, createdAt: journal.createdAt } } : {}) }
    const held = await bucket.getJson(path, signal)
    const current = held?.parsed && isClaimRecord(held.value) ? held.value : undefined
    let put: string | false = false
    if (!held) put = await bucket.putJson(path, record, { ifNoneMatch: true }, signal)
    else if ((current?.job?.jobId === jobId || (current?.kept && current.machine === this.#d.machine)) && held.etag) put = await bucket.putJson(path, record, { ifMatch: held.etag }, signal)
    if (put === false) return { kind: 'none' }
    return this.#hold(key, spec, record, put, signal)
  }

  stopAll(): void {
    for (const lease of this.#held) lease.stop()
  }

  /** Someone may have finished the key between our read-through and the claim: look once more. */
  async #won(key: string, spec: string, record: ClaimRecord, etag: string, signal: AbortSignal | undefined, lookup: () => Promise<Entry | undefined>): Promise<ClaimOutcome> {
    const held = this.#hold(key, spec, record, etag, signal)
    let made: Entry | undefined
    try {
      made = await lookup()
    } catch (err) {
      await held.release().catch(() => {})
      if (err instanceof RemoteError && err.kind === 'failed') throw uncertain(spec, `its entry in ${this.#d.bucket.where} could not be read (${err.message})`, err)
      throw err
    }
    if (made) {
      await held.release()
      return { kind: 'made', entry: made }
    }
    return held
  }

  #hold(key: string, spec: string, record: ClaimRecord, etag: string, signal: AbortSignal | undefined): ClaimOutcome & { kind: 'owned' } {
    const lease = new Lease(this.#d, key, spec, record, etag, signal, () => this.#held.delete(lease))
    this.#held.add(lease)
    lease.start()
    return { kind: 'owned', release: () => lease.release(), keep: () => lease.keep() }
  }

  /** Takes over a dead owner's paid job: the runner resumes it from this journal instead of paying again. */
  async #adopt(key: string, spec: string, job: NonNullable<ClaimRecord['job']>): Promise<void> {
    const { store, logger } = this.#d
    if (await store.readJournal(key)) return
    await store.writeJournal({ version: 1, key, provider: job.provider, jobId: job.jobId, spec, createdAt: job.createdAt })
    logger.info(`${spec}: resuming the paid job ${job.jobId} of the machine that held the claim`)
  }

  #record(key: string, spec: string): ClaimRecord {
    return { version: 1, key, spec, owner: this.#d.owner, machine: this.#d.machine, at: new Date().toISOString(), beat: 0 }
  }
}

/** One claim this process holds, refreshed every heartbeat until it is released or kept. */
class Lease {
  readonly #d: LeaseDeps
  readonly #path: string
  readonly #onEnd: () => void
  #record: ClaimRecord
  #etag: string
  /** The run's abort: once it fired, the last write is quick (the process is stopping). */
  readonly #run: AbortSignal | undefined
  /** Cuts a heartbeat in flight when the lease ends. */
  readonly #beats = new AbortController()
  #timer: NodeJS.Timeout | undefined
  #beating: Promise<void> | undefined
  #lost = false

  constructor(deps: LeaseDeps, readonly key: string, readonly spec: string, record: ClaimRecord, etag: string, run: AbortSignal | undefined, onEnd: () => void) {
    this.#d = deps
    this.#run = run
    this.#path = remotePaths.claim(key)
    this.#record = record
    this.#etag = etag
    this.#onEnd = onEnd
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#beating ??= this.#beat().finally(() => (this.#beating = undefined))
    }, this.#d.timing.heartbeatMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#beats.abort(new RemoteError('the claim was released', { kind: 'failed', final: true }))
    this.#onEnd()
  }

  async release(): Promise<void> {
    this.stop()
    await this.#beating
    if (this.#lost) return
    const quick = this.#run?.aborted ? STOPPING : {}
    const held = await this.#d.bucket.getJson(this.#path, undefined, quick)
    // After a takeover the claim is someone else's: leave it.
    if (held?.parsed && isClaimRecord(held.value) && held.value.owner !== this.#d.owner) return
    await this.#d.bucket.delete(this.#path, undefined, quick)
  }

  /** The owner leaves with its paid job unresolved: the claim stays this job's (never stale). */
  async keep(): Promise<void> {
    this.stop()
    await this.#beating
    if (this.#lost) return
    await this.#write({ kept: true }, this.#run?.aborted ? STOPPING : {})
  }

  async #beat(): Promise<void> {
    try {
      await this.#write({}, { once: true }, this.#beats.signal)
    } catch (err) {
      // The next beat tries again; the remote going away is reported by the next real request.
      if (!(err instanceof RemoteError)) throw err
    }
  }

  /** A conditional rewrite over our own last version; a version the bucket reported wrongly is re-read once. */
  async #write(extra: Partial<ClaimRecord>, quick: Quick, signal?: AbortSignal): Promise<void> {
    if (this.#lost) return
    const journal = await this.#d.store.readJournal(this.key)
    const job = journal?.jobId ? { provider: journal.provider, jobId: journal.jobId, createdAt: journal.createdAt } : this.#record.job
    const intent = journal !== undefined && !journal.jobId && !job ? true : undefined
    const next: ClaimRecord = { ...this.#record, at: new Date().toISOString(), beat: (this.#record.beat ?? 0) + 1, ...(job ? { job } : {}), intent, ...extra }
    for (let tries = 0; tries < 2; tries++) {
      const put = this.#etag
        ? await this.#d.bucket.putJson(this.#path, next, { ifMatch: this.#etag, ...quick }, signal)
        : false
      if (put !== false) {
        this.#record = next
        this.#etag = put
        return
      }
      const held = await this.#d.bucket.getJson(this.#path, signal, quick)
      const mine = held?.parsed && isClaimRecord(held.value) && held.value.owner === this.#d.owner
      if (!mine || !held?.etag) break
      this.#etag = held.etag
    }
    this.#lost = true
    this.stop()
    this.#d.logger.warn(`${this.spec}: lost its remote claim in ${this.#d.bucket.where} (taken over, or the bucket's versions do not match); finishing the paid job anyway`)
  }
}
