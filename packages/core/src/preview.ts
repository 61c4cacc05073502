import { computeKey } from './key/key.js'
import { probeVideo } from './media/ffmpeg.js'
import { providerRequest, type ProjectParts } from './project/parts.js'
import type { LoadedSpec } from './project/types.js'
import { offlineProvider } from './providers/offline.js'
import type { ProviderRequest } from './providers/types.js'
import { ClipCache } from './cache/clip-cache.js'
import { Runner } from './runner/runner.js'
import { runnerSettings } from './runner/settings.js'
import type { Entry } from './types.js'

const OFFLINE = offlineProvider()

/** The key a spec's offline preview is stored under: the offline provider's own namespace. */
export function previewKey(spec: Pick<LoadedSpec, 'request' | 'media'>): string {
  return computeKey({ provider: OFFLINE.id, request: spec.request, media: spec.media })
}

// One preview runner per project, so previews of the same spec are rendered once (single-flight)
// and never take more than the project's concurrency.
const runners = new WeakMap<ProjectParts, Runner>()

function previewRunner(project: ProjectParts): Runner {
  let runner = runners.get(project)
  if (!runner) {
    const { config, logger } = project
    runner = new Runner({
      store: project.store,
      // Previews are never shared through the bucket: free to render again.
      cache: new ClipCache({ store: project.store, root: config.root, shared: false, pinned: false, probe: probeVideo, logger }),
      provider: OFFLINE,
      probe: probeVideo,
      ...runnerSettings(config),
      // Preview renders are not the spec's build: keep them out of the event stream adapters show.
      logger: {
        debug: (m) => logger.debug(m),
        info: (m) => logger.info(m),
        warn: (m) => logger.warn(m),
        error: (m) => logger.error(m),
      },
    })
    runners.set(project, runner)
  }
  return runner
}

/**
 * The offline preview of a spec, rendered into the project's store if it is not there yet: a free,
 * local stand-in (right length, size, frame rate and format) to show while the real clip is being
 * generated. When the project itself runs the offline provider the preview is the spec's own clip,
 * so it goes through the project's runner and is shared with a build of the same key.
 */
export async function ensurePreview(
  project: ProjectParts,
  spec: LoadedSpec,
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<Entry> {
  if (project.provider.id === OFFLINE.id) {
    return (await project.runner.run(providerRequest(spec), opts)).entry
  }
  const key = previewKey(spec)
  const hit = await project.store.getEntry(key)
  if (hit) return hit
  const req: ProviderRequest = { key, request: spec.request, media: spec.media, spec: spec.id }
  return (await previewRunner(project).run(req, opts)).entry
}
