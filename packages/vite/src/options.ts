import { resolve } from 'node:path'
import type { OpenOptions, VidspecConfigInput } from '@vidspec/core'

/**
 * Options of the Vite plugin. Every one is optional. Apart from `root` and `configFile` they are the
 * options of `vidspec.config.ts` (same names, same defaults, documented on `VidspecConfigInput`) and
 * they win over that file, so `vite` and the `vidspec` CLI compute the same keys and share one store
 * as long as both read the same config file.
 *
 * The ones a site most often sets here:
 * - `cacheDir` (default `'.vidspec'`): the store, relative to the project root.
 * - `provider` (default `'auto'`: Together when `TOGETHER_API_KEY` is set, the offline preview
 *   renderer otherwise).
 * - `concurrency` (default `4`): generations in flight at once, in dev and in `vite build`.
 * - `previews` (default `'warn'`, `'error'` when `CI=true`): what `vite build` does when it would
 *   ship offline previews instead of generated clips.
 */
export interface VidspecPluginOptions extends VidspecConfigInput {
  /**
   * The vidspec project root: spec ids, globs and `cacheDir` are relative to it, and
   * `vidspec.config.ts` is looked for there. A relative path is taken from Vite's root.
   * @default Vite's `root`
   */
  root?: string
  /**
   * A config file to use instead of looking for `vidspec.config.{ts,mts,js,mjs}` in the root
   * (relative to the root). It must exist.
   * @default undefined (look in the root)
   */
  configFile?: string
  /**
   * Dev server only: quiet time (ms) between a spec's key becoming wanted and its paid create, so a
   * burst of saves while typing pays only for where it settles. `vidspec watch` has `--settle`.
   * @default 300
   */
  settleMs?: number
}

/** Splits the plugin's options into what `Vidspec.open` takes. */
export function openOptions(
  options: VidspecPluginOptions,
  viteRoot: string,
): Pick<OpenOptions, 'root' | 'configFile' | 'overrides'> {
  const { root, configFile, ...overrides } = options
  return {
    root: root === undefined ? viteRoot : resolve(viteRoot, root),
    ...(configFile !== undefined ? { configFile } : {}),
    overrides,
  }
}
