import type { ClipCache } from '../cache/clip-cache.js'
import type { ResolvedConfig } from '../config/resolve.js'
import type { Logger } from '../logger.js'
import type { Provider, ProviderRequest } from '../providers/types.js'
import type { Runner } from '../runner/runner.js'
import type { Store } from '../store/index.js'
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
export function clipWant(spec: LoadedSpec): { key: string; spec: string; request: LoadedSpec['request'] } {
  return { key: spec.key, spec: spec.id, request: spec.request }
}
