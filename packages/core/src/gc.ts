import { computeKey } from './key/key.js'
import { readLockfile } from './lockfile.js'
import type { ProjectParts } from './project/parts.js'
import type { LoadedSpec } from './project/types.js'
import { specId } from './spec/discover.js'
import type { GcReport } from './store/index.js'

type Loaded = Array<{ file: string; spec?: LoadedSpec | undefined }>

/**
 * Every provider a project can use. A project's keys differ per provider, and which one this
 * environment would pick (a key set or not, a flag) must never decide what gc keeps: a run without
 * TOGETHER_API_KEY would otherwise see only preview keys and throw away the paid clips.
 */
export const PROVIDER_IDS = ['together', 'offline'] as const

export interface KeepSet {
  keys: Set<string>
  /** Why each key is kept (for `gc --dry-run --json` and tests). */
  why: Map<string, string[]>
}

/**
 * What gc must keep, whatever the environment: every key a current spec has under every provider,
 * every lockfile pin, every current spec's last build (a spec broken right now still owns it), and
 * every key with a journaled or uncertain job.
 */
export async function gcKeepSet({ config, store }: Pick<ProjectParts, 'config' | 'store'>, loaded: Promise<Loaded>): Promise<KeepSet> {
  const keys = new Set<string>()
  const why = new Map<string, string[]>()
  const keep = (key: string, reason: string): void => {
    keys.add(key)
    why.set(key, [...(why.get(key) ?? []), reason])
  }
  for (const item of await loaded) {
    const id = specId(config.root, item.file)
    if (item.spec) {
      for (const provider of PROVIDER_IDS) {
        keep(computeKey({ provider, request: item.spec.request, media: item.spec.media }), `${id} (${provider})`)
      }
    }
    const last = await store.readSpecState(id)
    if (last) keep(last.key, `${id} (last build)`)
  }
  for (const [id, clip] of Object.entries((await readLockfile(config.root)).specs)) keep(clip.key, `${id} (vidspec.lock.json)`)
  for (const j of await store.listJournals()) keep(j.key, `${j.spec} (${j.jobId ? `journaled job ${j.jobId}` : 'create intent'})`)
  for (const u of await store.listUncertain()) keep(u.key, `${u.spec} (uncertain create)`)
  return { keys, why }
}

export interface CollectOptions {
  dryRun?: boolean | undefined
  keepDays?: number | undefined
  maxSizeBytes?: number | undefined
  /** Move paid clips no current spec, pin or job needs to the trash. @default false */
  includePaid?: boolean | undefined
}

/** gc for a project: its keep set, then the store's gc. */
export async function collectGarbage(
  parts: Pick<ProjectParts, 'config' | 'store'>,
  loaded: Promise<Loaded>,
  opts: CollectOptions = {},
): Promise<GcReport & { keep: KeepSet }> {
  const keep = await gcKeepSet(parts, loaded)
  const report = await parts.store.gc({ keep: keep.keys, ...opts })
  return { ...report, keep }
}
