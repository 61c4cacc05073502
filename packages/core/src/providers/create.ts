import type { ResolvedConfig } from '../config/resolve.js'
import { VidspecError } from '../errors.js'
import type { Logger } from '../logger.js'
import { mediaUrlTtlSeconds, s3MediaHost } from '../remote/media.js'
import { offlineProvider } from './offline.js'
import { togetherProvider } from './together.js'
import type { Provider } from './types.js'

/**
 * The provider a config asks for. The API key comes from the environment only, never from a file.
 * The logger is how Together's provider says that a job came back with a status it does not know.
 */
export function createProvider(config: ResolvedConfig, env: NodeJS.ProcessEnv = process.env, logger?: Logger): Provider {
  if (config.provider === 'offline') return offlineProvider()
  const apiKey = env.TOGETHER_API_KEY?.trim()
  if (!apiKey) {
    throw new VidspecError(
      'CONFIG_INVALID',
      'provider "together" needs an API key: set TOGETHER_API_KEY in the environment (https://api.together.ai/settings/api-keys), or use --provider offline for previews',
    )
  }
  return togetherProvider({
    apiKey,
    baseURL: config.together.baseURL,
    requestTimeoutMs: config.together.requestTimeoutMs,
    logger,
    // Local video, audio and large images reach Together through the remote cache's bucket.
    media: config.remote
      ? s3MediaHost(config.remote, { urlTtlSeconds: mediaUrlTtlSeconds(config.together.jobTimeoutMs) })
      : undefined,
  })
}
