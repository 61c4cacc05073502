import type { VideoAsset, VideoSpecInput } from './types.js'
import type { VidspecConfigInput } from './config/types.js'

/** Marks a value as a spec so the loader can tell a spec from any other default export. */
export const SPEC_BRAND = Symbol.for('vidspec.spec')

/**
 * Declares a video spec. The return type is the built asset on purpose: a page that imports
 * `./hero.video` through the Vite plugin receives a `VideoAsset`, so this is what TypeScript should
 * see. At run time (when the CLI evaluates the spec in Node) it returns the spec, branded.
 */
export function defineVideo(spec: VideoSpecInput): VideoAsset {
  return Object.assign(Object.create(null) as object, spec, { [SPEC_BRAND]: true }) as unknown as VideoAsset
}

/** Declares `vidspec.config.ts`. Every option is optional; see `VidspecConfigInput` for defaults. */
export function defineConfig(config: VidspecConfigInput): VidspecConfigInput {
  return config
}

export function isBrandedSpec(value: unknown): value is VideoSpecInput {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SPEC_BRAND] === true
}
