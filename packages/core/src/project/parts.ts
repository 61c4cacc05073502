import { ClipCache, type ClipWant } from '../cache/clip-cache.js'
import type { ResolvedConfig } from '../config/resolve.js'
import type { Logger } from '../logger.js'
import { mediaTools } from '../media/binaries.js'
import { probeClip } from '../media/probe.js'
import type { Provider, ProviderRequest } from '../providers/types.js'
import { RemoteCache } from '../remote/cache.js'
import { Runner, type ProbeFn } from '../runner/runner.js'
import { runnerSettings } from '../runner/settings.js'
import { Store } from '../store/index.js'
import type { LoadedSpec } from './types.js'

/**
 * What a project is made of, for the steps `Vidspec` delegates to (plan, build, gc, previews). Only
 * core's own modules see these; the adapters see the facade.
 */
export interface ProjectParts {
  readonly config: ResolvedConfig
  readonly store: Store
  readonly cache: ClipCache
  readonly provider: Provider
  readonly runner: Runner
  readonly logger: Logger
}

/** The request a provider receives for a loaded spec. */
export function providerRequest(spec: LoadedSpec): ProviderRequest {
  return { key: spec.key, request: spec.request, media: spec.media, spec: spec.id }
}

/** What the clip cache needs to look a spec's key up. */
export function clipWant(spec: LoadedSpec): ClipWant {
  return { key: spec.key, spec: spec.id, request: spec.request }
}

/** Builds a project's parts from its resolved config: one store, one bucket, one clip cache over both, one runner. */
export function assembleParts(
  config: ResolvedConfig,
  provider: Provider,
  logger: Logger,
  retryUncertain: boolean,
): ProjectParts & { remote: RemoteCache | undefined } {
  const store = new Store(config.cacheDir)
  // A corrupt clip found on a read becomes a miss; this says why, and that its job is journaled again.
  store.onCorrupt = (err) => logger.warn(err.message)
  const remote = config.remote
    ? new RemoteCache({
        remote: config.remote,
        store,
        logger,
        jobTimeoutMs: config.jobs.jobTimeoutMs,
        poll: { intervalMs: config.jobs.pollIntervalMs, maxIntervalMs: config.jobs.maxPollIntervalMs },
        retry: { retries: Math.min(config.retry.retries, 4), minDelayMs: config.retry.minDelayMs, maxDelayMs: Math.min(config.retry.maxDelayMs, 5000) },
      })
    : undefined
  // Previews are never written back, so an offline project neither reads the bucket nor warns about it.
  const probe = projectProbe(config)
  const cache = new ClipCache({ store, root: config.root, remote, shared: provider.kind === 'remote', probe, logger })
  const runner = new Runner({ store, cache, provider, probe, ...runnerSettings(config), logger, retryUncertain })
  return { config, store, cache, provider, runner, logger, remote }
}

/** A clip's probe as the project runs it: when ffprobe is needed, its VIDSPEC_FFPROBE, not the process's. */
export function projectProbe(config: Pick<ResolvedConfig, 'flags'>): ProbeFn {
  const tools = mediaTools(config.flags)
  return (file, opts) => probeClip(file, { ...opts, tools })
}
