import { access, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { extractPoster } from '@vidspec/core'

/**
 * First-frame posters, extracted with ffmpeg once per clip digest and kept in Vite's cache folder:
 * they are derived from the store's immutable objects and can always be made again, so they do not
 * belong in the store itself.
 */
export class Posters {
  readonly #dir: string
  readonly #inflight = new Map<string, Promise<string>>()

  constructor(dir: string) {
    this.#dir = dir
  }

  /** Path of the poster (JPEG) of the clip at `videoPath` whose bytes hash to `digest`. */
  get(digest: string, videoPath: string): Promise<string> {
    const existing = this.#inflight.get(digest)
    if (existing) return existing
    const out = join(this.#dir, `${digest}.jpg`)
    const made = (async () => {
      const there = await access(out).then(
        () => true,
        () => false,
      )
      if (!there) {
        await mkdir(this.#dir, { recursive: true })
        await extractPoster(videoPath, out)
      }
      return out
    })().finally(() => this.#inflight.delete(digest))
    this.#inflight.set(digest, made)
    return made
  }
}
