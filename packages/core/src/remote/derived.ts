import { rm } from 'node:fs/promises'
import { canonicalJson } from '../key/canonical.js'
import type { Logger } from '../logger.js'
import type { MediaTools } from '../media/binaries.js'
import { checkImageRendition, checkVideoRendition } from '../renditions/checks.js'
import type { DerivedRemote } from '../renditions/service.js'
import type { DerivedRecord, RenditionItem } from '../renditions/types.js'
import { isDerivedRecord } from '../store/derived.js'
import type { Store } from '../store/index.js'
import type { RemoteCache } from './cache.js'
import { remotePaths } from './layout.js'

/**
 * Renditions in the shared bucket (`renditions.remote: true`): worth it where an encode is slow
 * (AV1). Nothing here is paid work, so a remote that fails is a warning and a local encode, never
 * an error. A fetched rendition is trusted no more than a clip: its record must name this key, master
 * and recipe, its bytes must hash to its digest while they stream in, and it passes the same checks
 * as one made here before the store records it.
 */
export class RemoteRenditions implements DerivedRemote {
  readonly #cache: RemoteCache
  readonly #store: Store
  readonly #logger: Logger
  readonly #tools: MediaTools

  constructor(cache: RemoteCache, store: Store, logger: Logger, tools: MediaTools) {
    this.#cache = cache
    this.#store = store
    this.#logger = logger
    this.#tools = tools
  }

  async fetch(item: RenditionItem, signal?: AbortSignal): Promise<DerivedRecord | undefined> {
    if (this.#cache.failure) return undefined
    const { bucket } = this.#cache
    try {
      const read = await bucket.getJson(remotePaths.derived(item.key), signal)
      if (!read) return undefined
      const raw = read.value
      if (!read.parsed || !isDerivedRecord(raw) || raw.key !== item.key || raw.master !== item.master.digest || canonicalJson(raw.recipe) !== canonicalJson(item.recipe)) {
        this.#logger.warn(`${item.spec}: the remote record of rendition ${item.id} does not match what was asked; making it here`)
        return undefined
      }
      await this.#store.init()
      const tmp = this.#store.tempPath(raw.ext)
      try {
        const got = await bucket.download(remotePaths.object(raw.digest, raw.ext), tmp, raw.size, signal)
        if (!got || got.digest !== raw.digest || got.size !== raw.size) {
          this.#logger.warn(`${item.spec}: the remote object of rendition ${item.id} is ${got ? 'not the bytes its record names' : 'missing'}; making it here`)
          return undefined
        }
        const what = `${item.spec}: remote rendition ${item.id}`
        if (raw.recipe.kind === 'video') await checkVideoRendition(tmp, raw.recipe, raw.from, what, { tools: this.#tools })
        else await checkImageRendition(tmp, raw.recipe, what, this.#tools)
        const { digest: _d, size: _s, version: _v, ...meta } = raw
        const record = await this.#store.commitDerived(tmp, { ...meta, spec: item.spec })
        this.#logger.info(`${item.spec}: rendition ${item.id} fetched from the remote cache (${this.#cache.where})`)
        return record
      } finally {
        await rm(tmp, { force: true })
      }
    } catch (err) {
      this.#logger.warn(`${item.spec}: rendition ${item.id} could not be fetched from the remote cache (made here instead): ${(err as Error).message}`)
      return undefined
    }
  }

  async share(record: DerivedRecord): Promise<void> {
    if (this.#cache.mode !== 'read-write' || this.#cache.failure) return
    const { bucket } = this.#cache
    try {
      // Hashed on the way out, like every byte that leaves the store.
      const path = await this.#store.checkedPath(record, { trust: 'hash', spec: record.spec })
      const objectKey = remotePaths.object(record.digest, record.ext)
      if ((await bucket.head(objectKey))?.size !== record.size) await bucket.putFile(objectKey, path, record.type.split(';')[0] ?? 'application/octet-stream')
      // The first record written for a key wins; the same recipe made elsewhere is as good.
      await bucket.putJson(remotePaths.derived(record.key), record, { ifNoneMatch: true })
    } catch (err) {
      this.#logger.warn(`${record.spec}: could not share a rendition through the remote cache (kept locally): ${(err as Error).message}`)
    }
  }
}
