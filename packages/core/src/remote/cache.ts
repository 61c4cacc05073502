import { createHash, randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { hostname } from 'node:os'
import type { Logger } from '../logger.js'
import type { RetryPolicy } from '../runner/retry.js'
import type { Store } from '../store/index.js'
import { isKey } from '../store/layout.js'
import { isEntry } from '../store/shape.js'
import type { Entry } from '../types.js'
import type { ResolvedRemote } from './config.js'
import { LEASE_DEFAULTS } from './defaults.js'
import { remotePaths } from './layout.js'
import { Leases, uncertain, type ClaimOutcome, type LeaseTiming } from './lease.js'
import { RemoteError, S3Bucket } from './s3.js'

export type { ClaimOutcome, LeaseTiming } from './lease.js'

export interface RemoteCacheOptions {
  remote: ResolvedRemote
  store: Store
  logger: Logger
  /** The runner's job timeout: a machine waits at most this (plus a stale margin) for another's clip, unless `lease.waitMs` says otherwise. */
  jobTimeoutMs: number
  /** How often a machine that lost a claim looks for the winner's clip (backing off). */
  poll: { intervalMs: number; maxIntervalMs: number }
  /** How remote requests that may pass (timeouts, resets, 5xx) are retried. */
  retry?: RetryPolicy
  /** Tests pass their own. */
  bucket?: S3Bucket
}

/** What one key's remote fetch found. */
export type PullResult =
  | { status: 'fetched'; entry: Entry }
  | { status: 'absent' }
  /** Present but unusable (a malformed entry, a missing object, bytes that do not match the digest). */
  | { status: 'rejected'; reason: string }


/**
 * The shared cache in a bucket, in front of the local store. A remote that is definitely down
 * (refused, no such host, credentials refused) is one warning, after which this process builds
 * locally as if no remote existed. Any other failure is per key: retried, and if it stays unknown
 * the key is uncertain (never generated on a guess that the bucket does not have it).
 */
export class RemoteCache {
  readonly mode: ResolvedRemote['mode']
  readonly bucket: S3Bucket
  readonly #opts: RemoteCacheOptions
  readonly #owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
  readonly #leases: Leases
  #down: RemoteError | undefined
  /** Keys whose remote clip was refused here, with the version of the bad entry: a clip made for them replaces exactly that. */
  readonly #rejected = new Map<string, string | undefined>()
  /** Keys whose remote read failed in this process: asked again before anything is paid for them. */
  readonly #unknown = new Map<string, RemoteError>()

  constructor(opts: RemoteCacheOptions) {
    this.#opts = opts
    this.mode = opts.remote.mode
    const { requestTimeoutMs, lease } = opts.remote
    this.bucket = opts.bucket ?? new S3Bucket(opts.remote.s3, requestTimeoutMs ? { requestTimeoutMs } : {}, opts.retry)
    const staleMs = lease?.staleMs ?? LEASE_DEFAULTS.staleMs
    const timing: LeaseTiming = {
      heartbeatMs: lease?.heartbeatMs ?? LEASE_DEFAULTS.heartbeatMs,
      staleMs,
      waitMs: lease?.waitMs ?? opts.jobTimeoutMs + staleMs,
    }
    const machine = createHash('sha256').update(`${hostname()}\0${opts.store.dir}`).digest('hex').slice(0, 16)
    this.#leases = new Leases({ bucket: this.bucket, store: opts.store, logger: opts.logger, owner: this.#owner, machine, timing, poll: opts.poll })
  }

  /** Why the remote stopped being used in this process, if it did. */
  get failure(): string | undefined {
    return this.#down?.message
  }

  get where(): string {
    return this.bucket.where
  }

  /**
   * Read-through for a local miss: the key's clip, fetched and verified, or undefined. Never throws a
   * remote error: a failed read is remembered and asked again by `claim` before anything is paid.
   */
  async fetch(key: string, spec: string, signal?: AbortSignal): Promise<Entry | undefined> {
    if (this.#down) return undefined
    try {
      const got = await this.pull(key, spec, signal)
      this.#unknown.delete(key)
      return got.status === 'fetched' ? got.entry : undefined
    } catch (err) {
      this.#note(key, err)
      return undefined
    }
  }

  /**
   * Fetches a key's entry and object into the local store. The object is hashed as it streams in and
   * committed only when it matches the entry's digest. Throws RemoteError when the remote fails.
   */
  async pull(key: string, spec: string, signal?: AbortSignal): Promise<PullResult> {
    const { store, logger } = this.#opts
    const read = await this.bucket.getJson(remotePaths.entry(key), signal)
    if (read === undefined) return { status: 'absent' }
    const raw = read.value
    // Known-bad, not absent: a clip made here replaces it (over exactly this version).
    if (!read.parsed || !isEntry(raw) || raw.key !== key) return this.#reject(spec, key, read.etag, 'its remote entry is malformed')
    await store.init()
    const tmp = store.tempPath(raw.ext)
    try {
      const got = await this.bucket.download(remotePaths.object(raw.digest, raw.ext), tmp, raw.size, signal)
      if (!got) return this.#reject(spec, key, read.etag, `its remote object ${raw.digest.slice(0, 12)} is missing`)
      if (got.digest !== raw.digest || got.size !== raw.size) {
        return this.#reject(
          spec,
          key,
          read.etag,
          `the remote object's bytes do not match its entry (sha256 ${got.digest.slice(0, 12)}, ${got.size} bytes; expected ${raw.digest.slice(0, 12)}, ${raw.size} bytes)`,
        )
      }
      const { digest: _digest, size: _size, version: _version, ...meta } = raw
      const entry = await store.commit(tmp, meta)
      logger.info(`${spec}: fetched from the remote cache (${this.where})`)
      return { status: 'fetched', entry }
    } finally {
      await rm(tmp, { force: true })
    }
  }

  /** Write-back after a generation (read-write only; previews are free to render again and stay local). */
  async writeBack(entry: Entry): Promise<void> {
    if (this.mode !== 'read-write' || this.#down || entry.preview) return
    try {
      await this.upload(entry)
    } catch (err) {
      if (!(err instanceof RemoteError) || err.kind === 'down') return this.#degrade(err)
      this.#opts.logger.warn(`${entry.spec}: could not write the clip back to the remote cache (kept locally): ${err.message}`)
    }
  }

  /** Every key the remote has an entry for. Throws RemoteError. */
  async keys(): Promise<string[]> {
    const names = await this.bucket.list('entries')
    // Only names the store itself could write: a key becomes a local file name.
    return names.flatMap((n) => {
      const key = n.endsWith('.json') ? n.slice(0, -'.json'.length) : ''
      return isKey(key) ? [key] : []
    })
  }

  /** True when the remote has an entry for the key. Throws RemoteError. */
  async has(key: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.bucket.head(remotePaths.entry(key), signal)) !== undefined
  }

  /**
   * Whether a fetch would find a usable clip, without downloading it: the entry parses and names this
   * key, was not refused here before, and its object is there with the entry's size. False when it
   * cannot tell (a build asks again). Never throws a remote error.
   */
  async peek(key: string, signal?: AbortSignal): Promise<boolean> {
    if (this.#down || this.#rejected.has(key)) return false
    try {
      const read = await this.bucket.getJson(remotePaths.entry(key), signal)
      const raw = read?.parsed ? read.value : undefined
      if (!isEntry(raw) || raw.key !== key) return false
      return (await this.bucket.head(remotePaths.object(raw.digest, raw.ext), signal))?.size === raw.size
    } catch (err) {
      this.#note(key, err)
      return false
    }
  }

  /**
   * Uploads one local clip: object first, entry last, so a reader never finds an entry whose object
   * is not there yet. An entry already in the bucket is kept (the first clip made for a key wins),
   * and the object this call uploaded for the losing clip is removed again, so no orphan is left.
   */
  async upload(entry: Entry, opts: { verify?: boolean; signal?: AbortSignal } = {}): Promise<'written' | 'kept'> {
    const { signal } = opts
    // Every upload is hashed first (push and write-back alike): a corrupt clip is quarantined
    // (CACHE_CORRUPT) and never reaches the shared cache.
    const path = await this.#opts.store.checkedPath(entry, { trust: 'hash', spec: entry.spec })
    const objectKey = remotePaths.object(entry.digest, entry.ext)
    const entryKey = remotePaths.entry(entry.key)
    const repair = this.#rejected.has(entry.key)
    const badVersion = this.#rejected.get(entry.key)
    // A repair always rewrites the object: the bad one may have this very name (same digest, flipped bytes).
    const there = await this.bucket.head(objectKey, signal)
    const uploaded = repair || there?.size !== entry.size
    if (uploaded) await this.bucket.putFile(objectKey, path, entry.mime, signal)
    const cond = repair ? (badVersion ? { ifMatch: badVersion } : {}) : { ifNoneMatch: true }
    if ((await this.bucket.putJson(entryKey, entry, cond, signal)) !== false) {
      this.#rejected.delete(entry.key)
      return 'written'
    }
    const now = await this.bucket.getJson(entryKey, signal)
    const winner = now?.parsed && isEntry(now.value) ? now.value : undefined
    // Our own write, retried after a lost answer, had landed.
    if (winner?.digest === entry.digest) return 'written'
    if (uploaded && there === undefined) await this.bucket.delete(objectKey, signal)
    this.#rejected.delete(entry.key)
    return 'kept'
  }

  /**
   * Cross-machine single-flight, taken inside the local lock just before paying (see Leases). Throws
   * REMOTE_UNCERTAIN when the bucket cannot say whether the key is held or made.
   */
  async claim(key: string, spec: string, signal?: AbortSignal): Promise<ClaimOutcome> {
    if (this.#down) return { kind: 'none' }
    try {
      if (this.mode !== 'read-write') return await this.#readOnlyGate(key, spec, signal)
      return this.#guard(await this.#leases.acquire(key, spec, signal, () => this.#lookup(key, spec, signal)))
    } catch (err) {
      return this.#settle(key, spec, err)
    }
  }

  /** A local journal is being resumed: hold the claim for it while it runs (never blocks the resume). */
  async resume(key: string, spec: string, jobId: string, signal?: AbortSignal): Promise<ClaimOutcome> {
    if (this.mode !== 'read-write' || this.#down) return { kind: 'none' }
    try {
      return this.#guard(await this.#leases.resume(key, spec, jobId, signal))
    } catch (err) {
      if (!(err instanceof RemoteError)) throw err
      if (err.kind === 'down') this.#degrade(err)
      return { kind: 'none' }
    }
  }

  close(): void {
    this.#leases.stopAll()
    this.bucket.close()
  }

  /** Read-only machines never claim, but a key whose read failed is asked again before it is paid for. */
  async #readOnlyGate(key: string, spec: string, signal: AbortSignal | undefined): Promise<ClaimOutcome> {
    if (!this.#unknown.has(key)) return { kind: 'none' }
    const entry = await this.#lookup(key, spec, signal)
    return entry ? { kind: 'made', entry } : { kind: 'none' }
  }

  async #lookup(key: string, spec: string, signal: AbortSignal | undefined): Promise<Entry | undefined> {
    const got = await this.pull(key, spec, signal)
    this.#unknown.delete(key)
    return got.status === 'fetched' ? got.entry : undefined
  }

  #settle(key: string, spec: string, err: unknown): ClaimOutcome {
    if (!(err instanceof RemoteError)) throw err
    if (err.kind === 'down') {
      this.#degrade(err)
      return { kind: 'none' }
    }
    throw uncertain(spec, `the remote cache could not say whether another machine has it or is paying for it (${err.message})`, err)
  }

  /** Releasing or keeping a claim never fails a build that has its clip. */
  #guard(outcome: ClaimOutcome): ClaimOutcome {
    if (outcome.kind !== 'owned') return outcome
    const safe = (fn: () => Promise<void>) => () => fn().catch((err: unknown) => (err instanceof RemoteError && err.kind === 'failed' ? undefined : this.#degrade(err)))
    return { kind: 'owned', release: safe(outcome.release), keep: safe(outcome.keep) }
  }

  #reject(spec: string, key: string, version: string | undefined, reason: string): PullResult {
    if (!this.#rejected.has(key)) this.#opts.logger.warn(`${spec}: not using the remote cache's clip for key ${key.slice(0, 12)}: ${reason}`)
    this.#rejected.set(key, version)
    return { status: 'rejected', reason }
  }

  #note(key: string, err: unknown): void {
    if (!(err instanceof RemoteError)) throw err
    if (err.kind === 'down') this.#degrade(err)
    else this.#unknown.set(key, err)
  }

  #degrade(err: unknown): void {
    if (!(err instanceof RemoteError)) throw err
    if (this.#down) return
    this.#down = err
    this.#leases.stopAll()
    this.#opts.logger.warn(`remote cache unavailable, continuing with the local cache only: ${err.message}`)
  }
}
