import { stat } from 'node:fs/promises'
import type { Logger } from '../logger.js'
import { pinnedClip, pinnedIn, type LockedClip, type Lockfile } from '../lockfile.js'
import type { RemoteCache } from '../remote/cache.js'
import type { ProbeFn } from '../runner/runner.js'
import { clipEntry } from '../store/entry.js'
import type { Store } from '../store/index.js'
import type { Entry, NormalizedRequest } from '../types.js'

/** Where a key's clip was found: this store, the lockfile's approved object in it, or the shared bucket. */
export type ClipTier = 'local' | 'lockfile' | 'remote'

/** A clip the cache has, and the tier it came from. */
export interface FoundClip {
  entry: Entry
  tier: ClipTier
}

/** What the cache needs to know about a key to look for it. */
export interface ClipWant {
  key: string
  /** The spec id, for messages and for the entry a restored clip gets. */
  spec: string
  request: NormalizedRequest
}

export interface ClipLookup {
  signal?: AbortSignal | undefined
  /** The lockfile as the caller already read it (a build reads it once for every spec). */
  lockfile?: Lockfile | undefined
}

export interface ClipCacheOptions {
  store: Store
  /** The project root, where vidspec.lock.json lives. */
  root: string
  /** The shared bucket, or none. */
  remote?: RemoteCache | undefined
  /**
   * Whether the bucket may hold this project's clips: previews are never written back, so a project
   * on the offline provider has nothing to find there and must not ask a remote that may be down.
   */
  shared: boolean
  /**
   * Whether this cache's keys can be pinned in vidspec.lock.json. Previews never are, so their cache
   * does not read it (and a lockfile in a merge conflict does not stop a preview). @default true
   */
  pinned?: boolean | undefined
  probe: ProbeFn
  logger: Logger
}

/**
 * The one answer to "where is this key's clip", in the order the tiers are tried: the local store,
 * the lockfile's approved object (bytes present, entry not: a shared or restored cache folder), the
 * remote cache. `probe` only looks; `obtain` brings the clip into the local store, verified, so that
 * what `plan` calls cached is exactly what a build will use. Modeled on Turborepo's cache
 * multiplexer: remote hits are copied into the local tier, and a remote that is down is skipped for
 * the rest of the process (RemoteCache's breaker).
 */
export class ClipCache {
  readonly #opts: ClipCacheOptions

  constructor(opts: ClipCacheOptions) {
    this.#opts = opts
  }

  /** The local tier only (no lockfile read, no network): the runner's re-check under the lock. */
  local(key: string): Promise<Entry | undefined> {
    return this.#opts.store.getEntry(key)
  }

  /** The bucket when this project reads from it. */
  get #remote(): RemoteCache | undefined {
    return this.#opts.shared ? this.#opts.remote : undefined
  }

  /** Why the remote tier stopped being used in this process, if it did. */
  get remoteFailure(): string | undefined {
    return this.#remote?.failure
  }

  /**
   * Which tier `obtain` would take the key's clip from, without bringing anything in: no entry is
   * written, nothing is downloaded. A tier answers yes only for what `obtain` would accept short of
   * hashing the bytes: the approved object must have the pinned size, a remote entry must parse and
   * its object must be there with the entry's size.
   */
  async probe(want: ClipWant, opts: ClipLookup = {}): Promise<ClipTier | undefined> {
    if (await this.#opts.store.hasEntry(want.key)) return 'local'
    const pin = await this.#pin(want.key, opts)
    if (pin && (await this.#pinnedObjectPresent(pin))) return 'lockfile'
    if (await this.#remote?.peek(want.key, opts.signal)) return 'remote'
    return undefined
  }

  /**
   * The key's clip in the local store, from the first tier that has it whole, or undefined. A
   * lockfile object is hashed against its pin before it gets an entry; a remote object is hashed
   * while it streams in and committed only when it matches.
   */
  async obtain(want: ClipWant, opts: ClipLookup = {}): Promise<FoundClip | undefined> {
    const local = await this.local(want.key)
    if (local) return { entry: local, tier: 'local' }
    const pin = await this.#pin(want.key, opts)
    const restored = pin ? await this.#restore(want, pin) : undefined
    if (restored) return { entry: restored, tier: 'lockfile' }
    const fetched = await this.#remote?.fetch(want.key, want.spec, opts.signal)
    if (fetched) return { entry: fetched, tier: 'remote' }
    return undefined
  }

  /** Copies a generated clip to the bucket (read-write remotes only; previews stay local). */
  async share(entry: Entry): Promise<void> {
    await this.#remote?.writeBack(entry)
  }

  /**
   * The bucket's cross-machine claims, for the runner to take right before it pays: the tier that
   * may answer "another machine has it" must also be the one that says "another machine is making it".
   */
  get claims(): Pick<RemoteCache, 'claim' | 'resume'> | undefined {
    return this.#remote
  }

  async #pin(key: string, opts: ClipLookup): Promise<LockedClip | undefined> {
    if (this.#opts.pinned === false) return undefined
    return opts.lockfile ? pinnedIn(opts.lockfile, key) : pinnedClip(this.#opts.root, key)
  }

  async #pinnedObjectPresent(pin: LockedClip): Promise<boolean> {
    try {
      return (await stat(this.#opts.store.objectPath(pin.digest, pin.ext))).size === pin.size
    } catch {
      return false
    }
  }

  /**
   * A teammate's approved clip whose bytes are in this store but whose entry is not: hash it against
   * the pin and probe it, then record it, instead of paying for a different clip.
   */
  async #restore(want: ClipWant, pin: LockedClip): Promise<Entry | undefined> {
    const { store, logger } = this.#opts
    if (!(await this.#pinnedObjectPresent(pin))) return undefined
    try {
      // A flipped byte is quarantined here (CACHE_CORRUPT), never recorded as the approved clip.
      const path = await store.checkedPath(pin, { trust: 'hash', spec: want.spec })
      const probed = await this.#opts.probe(path)
      // The pin says what the object is (it was hashed against it just now); the probe says its shape.
      const entry: Entry = {
        version: 1,
        ...clipEntry({ ...probed, ext: pin.ext, mime: pin.mime }, { ...pin, key: want.key, spec: want.spec, request: want.request }),
        digest: pin.digest,
        size: pin.size,
      }
      await store.putEntry(entry)
      logger.info(`${want.spec}: restored the approved clip from vidspec.lock.json`)
      return entry
    } catch (err) {
      logger.warn(`${want.spec}: the approved clip in the cache could not be used: ${(err as Error).message}`)
      return undefined
    }
  }
}
