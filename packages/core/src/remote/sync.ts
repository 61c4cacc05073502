import pLimit from 'p-limit'
import type { LoadedSpec } from '../project/types.js'
import type { Store } from '../store/index.js'
import type { Entry } from '../types.js'
import type { RemoteCache } from './cache.js'
import { RemoteError } from './s3.js'

/** Requests to the bucket at once for push and pull. */
const TRANSFERS = 4

export interface PushReport {
  /** What was uploaded (or, in a dry run, would be). */
  pushed: Entry[]
  /** Clips the bucket already had (or whose key another machine's clip won meanwhile). */
  present: number
  failed: Array<{ key: string; error: string }>
}

export type PullOutcome = 'fetched' | 'absent' | 'rejected'

export interface PulledClip {
  key: string
  /** The spec's id; for every remote key (`all`), the spec its entry names once fetched, else the short key. */
  spec: string
  outcome: PullOutcome
  reason?: string
}

export interface PullReport {
  results: PulledClip[]
  /** Keys the local store already had. */
  cached: number
  /** Specs that could not be loaded (skipped, not fatal). */
  invalid: number
}

/**
 * Runs `fn` over `items`, a few at a time; the first error stops what has not started yet (the
 * remote being down ends the command, it does not try every other clip against it first).
 */
async function transfer<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  const limit = pLimit(TRANSFERS)
  await Promise.all(items.map((item) => limit(fn, item))).catch((err: unknown) => {
    limit.clearQueue()
    throw err
  })
}

/** Uploads every local paid clip the bucket lacks, each re-hashed first; previews stay local. */
export async function pushClips(store: Store, remote: RemoteCache, opts: { dryRun?: boolean; signal?: AbortSignal | undefined }): Promise<PushReport> {
  const { signal } = opts
  const entries = (await store.listEntries()).filter((e) => !e.preview)
  const report: PushReport = { pushed: [], present: 0, failed: [] }
  await transfer(entries, async (entry) => {
    if (await remote.has(entry.key, signal)) {
      report.present++
      return
    }
    if (!opts.dryRun) {
      try {
        // Another machine's clip won the key meanwhile: it stays, and ours leaves nothing behind.
        if ((await remote.upload(entry, { verify: true, ...(signal ? { signal } : {}) })) === 'kept') {
          report.present++
          return
        }
      } catch (err) {
        // The remote being unreachable ends the command; one bad local clip does not.
        if (err instanceof RemoteError) throw err
        report.failed.push({ key: entry.key, error: err instanceof Error ? err.message : String(err) })
        return
      }
    }
    report.pushed.push(entry)
  }).finally(() => remote.close())
  return report
}

type Loaded = Array<{ file: string; spec?: LoadedSpec | undefined }>

/** Fetches the clips the local store lacks: of the current specs, or (`all`) every key in the bucket, each verified. */
export async function pullClips(
  store: Store,
  remote: RemoteCache,
  loaded: () => Promise<Loaded>,
  opts: { all?: boolean; dryRun?: boolean; signal?: AbortSignal | undefined },
): Promise<PullReport> {
  const { signal } = opts
  const results: PulledClip[] = []
  try {
    const wanted = opts.all ? await everyRemoteKey(store, remote) : await currentSpecs(store, await loaded())
    await transfer(wanted.missing, async ({ key, spec }) => {
      if (opts.dryRun) {
        results.push({ spec, key, outcome: (await remote.has(key, signal)) ? 'fetched' : 'absent' })
        return
      }
      const got = await remote.pull(key, spec, signal)
      results.push({
        spec: got.status === 'fetched' && opts.all ? got.entry.spec : spec,
        key,
        outcome: got.status,
        ...(got.status === 'rejected' ? { reason: got.reason } : {}),
      })
    })
    results.sort((a, b) => a.spec.localeCompare(b.spec) || a.key.localeCompare(b.key))
    return { results, cached: wanted.cached, invalid: wanted.invalid }
  } finally {
    remote.close()
  }
}

interface Wanted {
  missing: Array<{ key: string; spec: string }>
  cached: number
  invalid: number
}

/** The current specs' keys that the local store lacks (invalid specs are counted, not fatal). */
async function currentSpecs(store: Store, loaded: Loaded): Promise<Wanted> {
  const missing = new Map<string, { key: string; spec: string }>()
  let cached = 0
  for (const { spec } of loaded) {
    if (!spec || missing.has(spec.key)) continue
    if (await store.getEntry(spec.key)) cached++
    else missing.set(spec.key, { key: spec.key, spec: spec.id })
  }
  return { missing: [...missing.values()], cached, invalid: loaded.filter((l) => !l.spec).length }
}

async function everyRemoteKey(store: Store, remote: RemoteCache): Promise<Wanted> {
  const missing: Array<{ key: string; spec: string }> = []
  let cached = 0
  for (const key of await remote.keys()) {
    if (await store.getEntry(key)) cached++
    else missing.push({ key, spec: key.slice(0, 12) })
  }
  return { missing, cached, invalid: 0 }
}
