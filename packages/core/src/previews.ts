import type { ResolvedConfig } from './config/resolve.js'

/** What to say when a build ships (or would ship) offline previews; `error` means refuse. */
export interface PreviewsVerdict {
  error?: string
  warning?: string
  info?: string
}

/**
 * The one `previews` policy (`allow` / `warn` / `error`; `error` when CI=true) for every way of
 * shipping clips: `vite build` and `vidspec build --out`. `specs` are the spec ids whose clip is (or
 * would be) an offline preview; `how` names the way of shipping, for the message.
 */
export function previewsVerdict(config: ResolvedConfig, specs: Iterable<string>, how: 'vite build' | 'vidspec build --out'): PreviewsVerdict {
  const ids = [...new Set(specs)].sort()
  if (ids.length === 0) return {}
  const list = ids.map((id) => `  - ${id}`).join('\n')
  const why =
    config.provider === 'offline' && config.providerSetting === 'auto'
      ? 'provider is "auto" and this project has no API key and no paid clip yet, so it renders offline previews'
      : `the provider is "${config.provider}"`
  const option = how === 'vite build' ? "the plugin or config option previews" : 'previews in vidspec.config.ts'
  if (config.previews === 'error') {
    return {
      error:
        `this production build (${how}) would ship offline previews instead of generated videos, and previews is 'error'` +
        ` (the default when CI=true):\n${list}\n` +
        `Here ${why}. Set TOGETHER_API_KEY (or provider: 'together') and build where spending is allowed so the clips ` +
        `are generated and pinned in vidspec.lock.json, or set ${option}: 'warn' to ship the previews knowingly.`,
    }
  }
  if (config.previews === 'allow') return { info: `shipping ${ids.length} offline preview(s) (previews: 'allow')` }
  return {
    warning:
      `\n${'!'.repeat(72)}\n` +
      `THIS BUILD SHIPS ${ids.length} OFFLINE PREVIEW(S), NOT GENERATED VIDEOS:\n${list}\n` +
      `They are placeholders rendered on this machine (${why}). Set TOGETHER_API_KEY and build again to\n` +
      `generate the real clips; set previews: 'error' to fail such a build, or 'allow' to accept it quietly.\n` +
      `${'!'.repeat(72)}`,
  }
}
