import { estimateCost } from '../guards.js'
import type { Lockfile } from '../lockfile.js'
import { diffRequests } from '../plan/diff.js'
import { specId, specName } from '../spec/discover.js'
import type { VidspecError } from '../errors.js'
import { dependencyHashes, projectPath } from './provenance.js'
import { clipWant, providerRequest, type ProjectParts } from './parts.js'
import type { LoadedSpec, PlanItem } from './types.js'

/**
 * What a build would do for each loaded spec, without doing any of it. "cached" comes from the clip
 * cache's probe, the same tiers in the same order that a build's obtain takes, so a plan never
 * promises a clip the build then refuses.
 */
export async function planSpecs(
  parts: ProjectParts,
  loaded: Array<{ file: string; spec?: LoadedSpec; error?: VidspecError }>,
  lock: Lockfile,
  signal: AbortSignal | undefined,
): Promise<PlanItem[]> {
  const { config, store, cache, provider } = parts
  const items = await Promise.all(
    loaded.map(async ({ file, spec, error }): Promise<PlanItem> => {
      // A loaded spec already knows its id and name: path work per spec is what a no-op plan is made of.
      const base = spec ? { id: spec.id, name: spec.name, file } : { id: specId(config.root, file), name: specName(config.root, file), file }
      if (!spec) return { ...base, status: 'invalid', ...(error ? { error } : {}) }
      const tier = await cache.probe(clipWant(spec), { lockfile: lock, signal })
      if (tier === 'local') return { ...base, status: 'cached', key: spec.key, spec }
      if (tier === 'lockfile') return { ...base, status: 'cached', key: spec.key, spec, restorable: true }
      if (tier === 'remote') return { ...base, status: 'cached', key: spec.key, spec, remote: true }
      const locked = lock.specs[spec.id]
      // What was approved (the lockfile) wins over what this machine last built.
      const state = await store.readSpecState(spec.id)
      const last = locked ?? state
      if (!last) return { ...base, status: 'new', key: spec.key, spec }
      const changes = diffRequests(last, spec)
      const depHashes = await dependencyHashes(spec)
      const changedDeps = Object.entries(depHashes)
        .map(([abs, hash]) => [projectPath(config.root, abs), hash] as const)
        .filter(([rel, hash]) => last.deps[rel] !== hash)
        .map(([rel]) => rel)
      const basis = locked ? 'lockfile' : 'last build'
      return { ...base, status: 'changed', key: spec.key, spec, changes, changedDeps, basis, ...(locked ? { previousProvider: locked.provider } : {}) }
    }),
  )
  const work = items.filter((i) => (i.status === 'new' || i.status === 'changed') && i.spec)
  if (work.length > 0 && provider.kind === 'remote') {
    const history = await store.listEntries()
    for (const item of work) if (item.spec) item.estimate = estimateCost(provider, providerRequest(item.spec), history, config.prices)
  }
  return items
}
