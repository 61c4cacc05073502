import { rm } from 'node:fs/promises'
import { computeKey } from './key/key.js'
import { mediaTools } from './media/binaries.js'
import { projectProbe } from './project/parts.js'
import { providerRequest, type ProjectParts } from './project/parts.js'
import type { LoadedSpec } from './project/types.js'
import { offlineProvider } from './providers/offline.js'
import type { ProviderRequest } from './providers/types.js'
import { ClipCache } from './cache/clip-cache.js'
import { Runner } from './runner/runner.js'
import { runnerSettings } from './runner/settings.js'
import type { Store } from './store/index.js'
import type { Entry } from './types.js'

// Only its id and kind are read here; each project's preview runner has its own, with its ffmpeg.
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
      cache: new ClipCache({ store: project.store, root: config.root, shared: false, pinned: false, probe: projectProbe(config), logger }),
      provider: offlineProvider(mediaTools(config.flags)),
      probe: projectProbe(config),
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

/**
 * Removes the offline preview stored under `key` once nothing shows it any more (a spec edited past
 * it), so a burst of edits in dev leaves one preview, not one per in-between key. Only previews:
 * never a paid clip. A preview being rendered right now (its lock held) is left; its renderer asks
 * again when it ends. True when it was removed.
 */
export async function evictPreview(store: Store, key: string): Promise<boolean> {
  const lock = await store.tryLock(key)
  if (!lock) return false
  try {
    const entry = await store.getEntry(key)
    if (!entry?.preview) return false
    await store.removeEntry(key)
    // Objects are shared by content: the bytes go only with the last entry that names them.
    if (!(await store.listEntries()).some((e) => e.digest === entry.digest)) await rm(store.objectPath(entry.digest, entry.ext), { force: true })
    return true
  } finally {
    await lock.release()
  }
}
