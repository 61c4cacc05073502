/**
 * Renditions: what a site ships, derived locally with ffmpeg from the paid master, which stays
 * untouched in the store. The public API (exported from `@vidspec/core`):
 *
 * - Recipe: `renditions` in `vidspec.config.ts` (`RenditionsInput`), overridden field by field by a
 *   spec's `defineVideo({ renditions })`, overridden by an import's directives, parsed by
 *   `parseRenditionQuery('?w=640;1280&format=webm;mp4', file)` (directives: w, format, audio, crf,
 *   bitrate, poster, posterFormat, placeholder; Vite's own params such as `import` and `t` are ignored).
 *   Default: one fast-start MP4 at the master's size, a remux (`-c copy -movflags +faststart`) when
 *   the master is H.264 with AAC or no audio; a first-frame JPEG poster; a placeholder.
 * - `Vidspec.renditionPlan(spec, query?)` -> `RenditionPlan` { sources (best first: av1, webm, mp4;
 *   larger first), posters, placeholder, remote }: each `RenditionItem` has id, recipe, key, type
 *   (with codecs: exact once made, predicted before), width, height, ext, cached. No side effects;
 *   throws USAGE when the spec's clip is not stored.
 * - `Vidspec.obtainRendition(item)` / `obtainRenditions(spec, query?)` -> store, then remote (when
 *   `renditions.remote`), then ffmpeg (at most availableParallelism() at once). A `Rendition` is the
 *   verified object's `path` (read-only), `bytes`, `type`, `width`, `height`, `digest`, `source`.
 *   `obtainRenditions` also gives `placeholder` as a data URI; `placeholderFor(item)` alone.
 *   `readRendition(r)` gives its bytes hashed on the way out (vite build); `clipFile({ digest, ext })`
 *   a verified path to serve (dev, Range).
 * - Rendition key = sha256(master digest + canonical recipe + encoder identity (ffmpeg version,
 *   build hash, each encoder's description hash) + RENDITION_FORMAT_VERSION). Never the generation key.
 * - Every rendition passes its checks before it is stored (RENDITION_INVALID names the failed one):
 *   codec, container, size (never upscaled, aspect, even for H.264), duration, audio, MP4 fast start.
 * - The store records each as derived (`derived/<key>.json`); gc evicts them before any master.
 */
export type {
  AudioChoice,
  DerivedRecord,
  EncoderIdentity,
  PlaceholderRecipe,
  PosterFormat,
  PosterRecipe,
  Recipe,
  Rendition,
  RenditionDirectives,
  RenditionFormat,
  RenditionItem,
  RenditionPlan,
  RenditionsInput,
  ResolvedRenditions,
  VideoRecipe,
} from './types.js'
export type { ObtainedRenditions, ObtainOptions } from './service.js'
export { parseRenditionQuery, directiveQuery, DIRECTIVES } from './directives.js'
export { resolveRenditions, renditionSize } from './resolve.js'
export { RENDITION_FORMAT_VERSION, renditionDefaults } from './defaults.js'
