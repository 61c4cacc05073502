import pLimit from 'p-limit'
import type { ClipCache, FoundClip } from '../cache/clip-cache.js'
import { VidspecError, isVidspecError } from '../errors.js'
import { checkSpend, type Miss } from '../guards.js'
import { lockedClip, writeLockfile, type LockedClip, type Lockfile } from '../lockfile.js'
import { missingKeyError } from '../providers/together.js'
import type { RunResult } from '../runner/runner.js'
import { specId, specName } from '../spec/discover.js'
import { clipWant, providerRequest, type ProjectParts } from './parts.js'
import { provenance } from './provenance.js'
import type { BuildItem, BuildOptions, BuildResult, BuildStatus, LoadedSpec } from './types.js'

type Loaded = Array<{ file: string; spec?: LoadedSpec; error?: VidspecError }>

/**
 * Makes sure one spec's clip is in the store: the clip cache's tiers, and only then a generation.
 * Under `frozen` a paid generation is FROZEN_MISS; without an API key it is PROVIDER_AUTH, both
 * naming the spec and both before any request.
 */
export async function obtainClip(
  parts: ProjectParts,
  spec: LoadedSpec,
  opts: { signal?: AbortSignal | undefined; frozen?: boolean | undefined; lockfile?: Lockfile | undefined },
): Promise<RunResult> {
  const { store, cache, provider, runner, config } = parts
  const run = () => runner.run(providerRequest(spec), opts.signal ? { signal: opts.signal } : {})
  const frozen = opts.frozen ?? false
  // The runner asks the cache itself; only a run that may not pay must know the answer first.
  if (provider.kind !== 'remote' || (!frozen && provider.canCreate !== false)) return run()
  const found = await cache.obtain(clipWant(spec), { signal: opts.signal, lockfile: opts.lockfile })
  // A stored clip goes through the runner, which also settles what a crash left (a journal).
  if (found) return found.tier === 'local' ? run() : { entry: found.entry, generated: false }
  // A job already paid for (journaled) is downloaded, not bought: frozen does not stop it.
  const journal = await store.readJournal(spec.key)
  const paid = Boolean(journal?.jobId) && journal?.provider === provider.id
  if (paid && provider.canCreate !== false) return run()
  if (paid) {
    throw new VidspecError(
      'PROVIDER_AUTH',
      `${spec.id}: its paid job ${journal?.jobId} is in the journal, and downloading it from Together needs the API key: set TOGETHER_API_KEY (the journal keeps the job until then)`,
      { file: spec.id },
    )
  }
  if (frozen) {
    throw new VidspecError(
      'FROZEN_MISS',
      `${spec.id}: needs a paid generation that nobody approved (frozen${config.frozen ? ', the default when CI=true' : ''}); ` +
        'build it where spending is allowed and commit vidspec.lock.json, or restore the shared cache',
      { file: spec.id },
    )
  }
  throw missingKeyError(spec.id)
}

/** Records what a spec was last built from, for `plan --explain` on this machine. */
export async function recordBuild(parts: ProjectParts, spec: LoadedSpec): Promise<void> {
  const { media, deps } = await provenance(parts.config.root, spec)
  await parts.store.writeSpecState({ spec: spec.id, key: spec.key, request: spec.request, media, deps, builtAt: new Date().toISOString() })
}

export async function buildSpecs(parts: ProjectParts, loaded: Loaded, lock: Lockfile, opts: BuildOptions): Promise<BuildResult> {
  const { config, store, cache, provider, logger } = parts
  // Every tier is asked before --frozen and the spend limits decide: a clip the cache can bring in is not a miss.
  const limit = pLimit(8)
  // One lookup per key: two specs with the same request share one clip, and one download of it.
  const byKey = new Map<string, ReturnType<ClipCache['obtain']>>()
  for (const { spec } of loaded) {
    if (spec && !byKey.has(spec.key)) byKey.set(spec.key, limit(() => cache.obtain(clipWant(spec), { signal: opts.signal, lockfile: lock })))
  }
  const found = await Promise.all(loaded.map(({ spec }) => (spec ? byKey.get(spec.key) : undefined)))
  const misses: Miss[] = []
  for (const [i, { spec }] of loaded.entries()) {
    if (!spec || found[i]) continue
    // A job already paid for (journaled, e.g. a quarantined clip's) is downloaded again, not bought: no spend to guard.
    const journal = await store.readJournal(spec.key)
    if (journal?.jobId && journal.provider === provider.id) continue
    const locked = lock.specs[spec.id]
    const approved =
      locked?.key === spec.key
        ? `the approved clip ${locked.digest.slice(0, 12)} (vidspec.lock.json) is not in the cache; a new generation will differ from it`
        : undefined
    if (approved) logger.warn(`${spec.id}: ${approved}`)
    const failure = cache.remoteFailure
    const unreachable = failure ? `the remote cache could not be used (${failure})` : undefined
    const note = [approved, unreachable].filter(Boolean).join('; ') || undefined
    misses.push({ spec: spec.id, request: providerRequest(spec), note })
  }
  const frozen = opts.frozen ?? config.frozen
  try {
    const history = opts.maxCost === undefined ? [] : await store.listEntries()
    checkSpend(provider, misses, { ...opts, frozen }, history, config.prices)
  } catch (err) {
    if (!(err instanceof VidspecError)) throw err
    return blocked(parts, loaded, new Set(misses.map((m) => m.spec)), err)
  }
  const items = await Promise.all(loaded.map((item, i) => buildOne(parts, item, { signal: opts.signal, frozen, lockfile: lock, found: found[i] })))
  const lockfileUpdated = opts.lockfile === false ? false : await updateLockfile(parts, lock, loaded, items, !opts.files)
  return { items, counts: countItems(items), lockfileUpdated }
}

async function buildOne(
  parts: ProjectParts,
  { file, spec, error }: Loaded[number],
  opts: { signal?: AbortSignal | undefined; frozen: boolean; lockfile: Lockfile; found: FoundClip | undefined },
): Promise<BuildItem> {
  const { config, logger } = parts
  const id = specId(config.root, file)
  const name = specName(config.root, file)
  // Interrupted while it was being evaluated: cancelled, like a job, not a bad spec.
  if (!spec && error && isVidspecError(error, 'ABORTED')) return { id, name, file, status: 'failed', error, durationMs: 0 }
  if (!spec) {
    const err = error ?? new VidspecError('SPEC_INVALID', `${id}: could not be loaded`)
    if (logger.event) logger.event({ type: 'spec:invalid', spec: id, error: err })
    else logger.error(err.message)
    return { id, name, file, status: 'invalid', error: err, durationMs: 0 }
  }
  const started = performance.now()
  try {
    // Found by the first pass, which asked every tier: not asked again, and no run for it.
    const { entry, generated } = opts.found ? await parts.runner.fromCache(opts.found) : await obtainClip(parts, spec, opts)
    await recordBuild(parts, spec)
    const durationMs = performance.now() - started
    if (generated) logger.event?.({ type: 'spec:done', spec: id, key: spec.key, generated, durationMs, cost: entry.cost })
    else logger.event?.({ type: 'spec:cached', spec: id, key: spec.key })
    return {
      id,
      name,
      file,
      status: generated ? 'generated' : 'cached',
      key: spec.key,
      entry,
      durationMs,
      ...(spec.renditions ? { renditions: spec.renditions } : {}),
    }
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err))
    if (isVidspecError(e, 'ABORTED')) logger.event?.({ type: 'spec:cancelled', spec: id, key: spec.key })
    else logger.event?.({ type: 'spec:failed', spec: id, key: spec.key, error: e })
    return { id, name, file, status: 'failed', key: spec.key, error: e, durationMs: performance.now() - started }
  }
}

/** Records each built spec's clip in vidspec.lock.json; drops specs that no longer exist. */
async function updateLockfile(parts: ProjectParts, lock: Lockfile, loaded: Loaded, items: BuildItem[], complete: boolean): Promise<boolean> {
  const { root } = parts.config
  const specs: Record<string, LockedClip> = complete
    ? Object.fromEntries(
        loaded.flatMap(({ file }) => {
          const id = specId(root, file)
          const kept = lock.specs[id]
          return kept ? [[id, kept] as const] : []
        }),
      )
    : { ...lock.specs }
  const byId = new Map(loaded.flatMap(({ spec }) => (spec ? [[spec.id, spec] as const] : [])))
  for (const item of items) {
    const spec = byId.get(item.id)
    // Previews are placeholders, not approvals: the lockfile pins paid clips only.
    if (!item.entry || !spec || item.entry.preview) continue
    const pinned = specs[item.id]
    if (pinned?.key === item.entry.key && pinned.digest === item.entry.digest && pinned.jobId === item.entry.jobId) continue
    const { media, deps } = await provenance(root, spec)
    specs[item.id] = lockedClip(item.entry, media, deps)
  }
  return writeLockfile(root, { version: 1, specs })
}

function blocked(parts: ProjectParts, loaded: Loaded, missed: Set<string>, err: VidspecError): BuildResult {
  const { root } = parts.config
  const items = loaded.map(({ file, spec, error }): BuildItem => {
    const id = specId(root, file)
    const name = specName(root, file)
    if (!spec) return { id, name, file, status: 'invalid', ...(error ? { error } : {}), durationMs: 0 }
    if (missed.has(spec.id)) return { id, name, file, status: 'blocked', key: spec.key, error: err, durationMs: 0 }
    return { id, name, file, status: 'cached', key: spec.key, durationMs: 0 }
  })
  parts.logger.error(err.message)
  return { items, counts: countItems(items), blocked: err }
}

function countItems(items: BuildItem[]): Record<BuildStatus, number> {
  const counts: Record<BuildStatus, number> = { cached: 0, generated: 0, failed: 0, invalid: 0, blocked: 0 }
  for (const item of items) counts[item.status]++
  return counts
}
