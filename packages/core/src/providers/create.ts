import type { ResolvedConfig } from '../config/resolve.js'
import { VidspecError } from '../errors.js'
import { offlineProvider } from './offline.js'
import { togetherProvider } from './together.js'
import type { Provider } from './types.js'

/** The provider a config asks for. The API key comes from the environment only, never from a file. */
export function createProvider(config: ResolvedConfig, env: NodeJS.ProcessEnv = process.env): Provider {
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
  })
}
