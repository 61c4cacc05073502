import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { hostname } from 'node:os'
import type { Logger } from '../logger.js'
import { sleep } from '../runner/retry.js'
import type { Store } from '../store/index.js'
import { isKey } from '../store/layout.js'
import { isEntry } from '../store/shape.js'
import type { Entry } from '../types.js'
import type { ResolvedRemote } from './config.js'
import { isClaimRecord, remotePaths, type ClaimRecord } from './layout.js'
import { RemoteError, S3Bucket } from './s3.js'

export interface RemoteCacheOptions {
  remote: ResolvedRemote
  store: Store
  logger: Logger
  /** A claim older than this may be taken over, and a machine waits at most this long for another's clip. */
  jobTimeoutMs: number
  /** How often a machine that lost a claim looks for the winner's clip (backing off). */
  poll: { intervalMs: number; maxIntervalMs: number }
  /** Tests pass their own. */
  bucket?: S3Bucket
}

/** What one key's remote fetch found. */
export type PullResult =
  | { status: 'fetched'; entry: Entry }
  | { status: 'absent' }
  /** Present but unusable (a malformed entry, a missing object, bytes that do not match the digest). */
  | { status: 'rejected'; reason: string }

export type ClaimOutcome =
  /** This process may pay; `release` after the clip is written back (or the attempt is over). */
  | { kind: 'owned'; release(): Promise<void> }
  /** Another machine made it meanwhile; it is in the local store now. */
  | { kind: 'made'; entry: Entry }
  /** No claim taken (read-only, or the remote is down): go on with the local lock alone. */
  | { kind: 'none' }

/**
 * The shared cache in a bucket, in front of the local store. Everything here degrades: the first
 * remote failure is one warning, after which this process builds locally as if no remote existed.
 */
export class RemoteCache {
  readonly mode: ResolvedRemote['mode']
  readonly bucket: S3Bucket
  readonly #opts: RemoteCacheOptions
  readonly #owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
  #down: RemoteError | undefined
  /** Keys whose remote clip was refused here: a clip made for them replaces it in the bucket. */
  readonly #rejected = new Set<string>()

  constructor(opts: RemoteCacheOptions) {
    this.#opts = opts
    this.mode = opts.remote.mode
    this.bucket = opts.bucket ?? new S3Bucket(opts.remote.s3)
  }

  /** Why the remote stopped being used in this process, if it did. */
  get failure(): string | undefined {
    return this.#down?.message
  }

  get where(): string {
    return this.bucket.where
  }

  /** Read-through for a local miss: the key's clip, fetched and verified, or undefined. Never throws a remote error. */
  async fetch(key: string, spec: string, signal?: AbortSignal): Promise<Entry | undefined> {
    if (this.#down) return undefined
    try {
      const got = await this.pull(key, spec, signal)
      return got.status === 'fetched' ? got.entry : undefined
    } catch (err) {
      this.#degrade(err)
      return undefined
    }
  }

  /**
   * Fetches a key's entry and object into the local store. The object is hashed as it streams in and
   * committed only when it matches the entry's digest. Throws RemoteError when the remote fails.
   */
  async pull(key: string, spec: string, signal?: AbortSignal): Promise<PullResult> {
    const { store, logger } = this.#opts
    const raw = await this.bucket.getJson(remotePaths.entry(key))
    if (raw === undefined) return { status: 'absent' }
    if (!isEntry(raw) || raw.key !== key) return this.#reject(spec, key, 'its remote entry is malformed')
    await store.init()
    const tmp = store.tempPath(raw.ext)
    try {
      const got = await this.bucket.download(remotePaths.object(raw.digest, raw.ext), tmp, signal)
      if (!got) return this.#reject(spec, key, `its remote object ${raw.digest.slice(0, 12)} is missing`)
      if (got.digest !== raw.digest || got.size !== raw.size) {
        return this.#reject(
          spec,
          key,
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
      this.#degrade(err)
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
  async has(key: string): Promise<boolean> {
    return (await this.bucket.head(remotePaths.entry(key))) !== undefined
  }

  /** `has` for a plan: false once the remote failed, like every other read here. Never throws a remote error. */
  async holds(key: string): Promise<boolean> {
    if (this.#down) return false
    try {
      return await this.has(key)
    } catch (err) {
      this.#degrade(err)
      return false
    }
  }

  /**
   * Uploads one local clip: object first, entry last, so a reader never finds an entry whose object
   * is not there yet. An entry already in the bucket is kept (the first clip made for a key wins).
   */
  async upload(entry: Entry, _opts: { verify?: boolean } = {}): Promise<void> {
    // Every upload is hashed first (push and write-back alike): a corrupt clip is quarantined
    // (CACHE_CORRUPT) and never reaches the shared cache.
    const path = await this.#opts.store.checkedPath(entry, { trust: 'hash', spec: entry.spec })
    const objectKey = remotePaths.object(entry.digest, entry.ext)
    const repair = this.#rejected.has(entry.key)
    const there = repair ? undefined : await this.bucket.head(objectKey)
    if (there?.size !== entry.size) await this.bucket.putFile(objectKey, path, entry.mime)
    await this.bucket.putJson(remotePaths.entry(entry.key), entry, { ifNoneMatch: !repair })
    this.#rejected.delete(entry.key)
  }

  /**
   * Cross-machine single-flight, taken inside the local lock just before paying: a conditional write
   * of `claims/<key>.json`. The loser waits for the winner's clip instead of paying again; a claim
   * older than the job timeout (its owner died) is taken over.
   */
  async claim(key: string, spec: string, signal?: AbortSignal): Promise<ClaimOutcome> {
    if (this.mode !== 'read-write' || this.#down) return { kind: 'none' }
    try {
      return await this.#claim(key, spec, signal)
    } catch (err) {
      this.#degrade(err)
      return { kind: 'none' }
    }
  }

  close(): void {
    this.bucket.close()
  }

  async #claim(key: string, spec: string, signal: AbortSignal | undefined): Promise<ClaimOutcome> {
    const path = remotePaths.claim(key)
    const { jobTimeoutMs, poll, logger } = this.#opts
    const started = Date.now()
    let interval = poll.intervalMs
    let announced = false
    for (let round = 0; ; round++) {
      if (round > 0) {
        await sleep(interval, signal)
        interval = Math.min(poll.maxIntervalMs, Math.round(interval * 1.5))
      }
      if (await this.bucket.putJson(path, this.#record(key, spec), { ifNoneMatch: true })) return this.#won(key, spec, signal)
      const made = await this.pull(key, spec, signal)
      if (made.status === 'fetched') return { kind: 'made', entry: made.entry }
      const head = await this.bucket.head(path)
      // Released without a clip (the owner's generation failed): claim it ourselves.
      if (!head) continue
      const held = await this.bucket.getJson(path)
      const since = isClaimRecord(held) ? Date.parse(held.at) : Number.NaN
      const now = Date.now()
      if (now - started > jobTimeoutMs || now - since > jobTimeoutMs) {
        const owner = isClaimRecord(held) ? held.owner : 'unknown'
        if (head.etag && (await this.bucket.putJson(path, this.#record(key, spec), { ifMatch: head.etag }))) {
          logger.warn(`${spec}: took over a stale remote claim (held by ${owner} since ${isClaimRecord(held) ? held.at : '?'})`)
          return this.#won(key, spec, signal)
        }
        continue
      }
      if (!announced) {
        announced = true
        logger.info(`${spec}: another machine is generating it (${isClaimRecord(held) ? held.owner : 'claim'}); waiting for its clip`)
      }
    }
  }

  /** Someone may have finished the key between our read-through and the claim: look once more. */
  async #won(key: string, spec: string, signal: AbortSignal | undefined): Promise<ClaimOutcome> {
    const made = await this.pull(key, spec, signal)
    if (made.status === 'fetched') {
      await this.#release(key)
      return { kind: 'made', entry: made.entry }
    }
    return { kind: 'owned', release: () => this.#release(key).catch((err: unknown) => this.#degrade(err)) }
  }

  async #release(key: string): Promise<void> {
    const path = remotePaths.claim(key)
    const held = await this.bucket.getJson(path)
    // After a takeover the claim is someone else's: leave it.
    if (isClaimRecord(held) && held.owner !== this.#owner) return
    await this.bucket.delete(path)
  }

  #record(key: string, spec: string): ClaimRecord {
    return { version: 1, key, spec, owner: this.#owner, at: new Date().toISOString() }
  }

  #reject(spec: string, key: string, reason: string): PullResult {
    this.#rejected.add(key)
    this.#opts.logger.warn(`${spec}: not using the remote cache's clip for key ${key.slice(0, 12)}: ${reason}`)
    return { status: 'rejected', reason }
  }

  #degrade(err: unknown): void {
    if (!(err instanceof RemoteError)) throw err
    if (this.#down) return
    this.#down = err
    this.#opts.logger.warn(`remote cache unavailable, continuing with the local cache only: ${err.message}`)
  }
}
