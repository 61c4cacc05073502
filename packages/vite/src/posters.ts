import { access, mkdir } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * First-frame posters, extracted with ffmpeg once per clip digest and kept in Vite's cache folder:
 * they are derived from the store's immutable objects and can always be made again, so they do not
 * belong in the store itself.
 */
export class Posters {
  readonly #dir: string
  readonly #inflight = new Map<string, Promise<string>>()
  readonly #extract: (videoPath: string, outFile: string) => Promise<void>

  /** `extract` is the project's (its ffmpeg, VIDSPEC_FFMPEG included). */
  constructor(dir: string, extract: (videoPath: string, outFile: string) => Promise<void>) {
    this.#dir = dir
    this.#extract = extract
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
        await this.#extract(videoPath, out)
      }
      return out
    })().finally(() => this.#inflight.delete(digest))
    this.#inflight.set(digest, made)
    return made
  }
}
