import type { ResolvedConfig } from '../config/resolve.js'
import { readLockfile } from '../lockfile.js'
import type { Logger } from '../logger.js'
import { mediaUrlTtlSeconds, s3MediaHost } from '../remote/media.js'
import { Store } from '../store/index.js'
import { mediaTools } from '../media/binaries.js'
import { offlineProvider } from './offline.js'
import { togetherProvider } from './together.js'
import type { Provider, ProviderName } from './types.js'

/**
 * The provider a config asks for. The API key comes from the environment only, never from a file,
 * and it is needed only to create a job: without it the Together provider still names the keys of
 * the approved clips (so they are found in the lockfile, the store and the remote cache), and asking
 * it for a new generation is a PROVIDER_AUTH error naming the spec.
 * The logger is how Together's provider says that a job came back with a status it does not know.
 */
export function createProvider(config: ResolvedConfig, env: NodeJS.ProcessEnv = process.env, logger?: Logger): Provider {
  if (config.provider === 'offline') return offlineProvider(mediaTools(config.flags))
  return togetherProvider({
    apiKey: env.TOGETHER_API_KEY?.trim() || undefined,
    baseURL: config.together.baseURL,
    requestTimeoutMs: config.together.requestTimeoutMs,
    logger,
    // Local video, audio and large images reach Together through the remote cache's bucket.
    media: config.remote
      ? s3MediaHost(config.remote, { urlTtlSeconds: mediaUrlTtlSeconds(config.jobs.jobTimeoutMs) })
      : undefined,
  })
}

/**
 * Finishes deciding `provider: 'auto'` from what the project holds, not from the secret alone: a
 * project with paid clips (pinned in vidspec.lock.json, or Together entries in its store) is a
 * Together project for a teammate or a fork's CI without the key too, so they use the approved
 * clips instead of silently shipping previews. Only a project with no paid clip and no key gets the
 * offline previews.
 */
export async function resolveProvider(config: ResolvedConfig): Promise<ProviderName> {
  if (config.providerSetting !== 'auto' || config.provider === 'together') return config.provider
  const lock = await readLockfile(config.root)
  if (Object.values(lock.specs).some((clip) => clip.provider === 'together' && !clip.preview)) return 'together'
  // Reached only without a key and without pinned clips (a Vite-only project has no lockfile).
  const entries = await new Store(config.cacheDir).listEntries()
  if (entries.some((e) => e.provider === 'together' && !e.preview)) return 'together'
  return 'offline'
}
