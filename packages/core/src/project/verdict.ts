import { readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CONFIG_FILE_NAMES } from '../config/names.js'
import { LOCKFILE_NAME } from '../lockfile.js'
import { witnessFile, witnessPresence, type Witness } from '../plan/verdict.js'
import { discoveryFolders } from '../spec/discover.js'
import type { SpecLoader } from '../spec/loader.js'
import { SpecMemo } from '../spec/memo.js'
import { RACY_MS, isPackedSettled } from '../store/stamp.js'
import type { ProjectParts } from './parts.js'
import type { PlanItem } from './types.js'

export interface WitnessContext {
  parts: ProjectParts & { remote: unknown }
  loader: SpecLoader
  configDeps: string[]
  configRemembered: boolean
  /** Files the answer also rests on: the adapter's code that printed it (core adds its own). */
  code: string[]
}

/**
 * Every file and folder a plan's answer rested on, when that answer is a function of them alone and
 * each had settled before the plan began (`startedAt`, ms): the whole project was planned, every spec
 * was cached in the local store and came from the memo (so no spec read the environment, the clock or
 * randomness), the config came from its memo or there is none, and no remote cache takes part.
 * Otherwise why not: the next plan then runs in full.
 */
export async function planWitness(ctx: WitnessContext, items: PlanItem[], startedAt: number): Promise<Witness | { refused: string }> {
  const { config, store } = ctx.parts
  if (config.flags.noMemo) return { refused: 'VIDSPEC_NO_MEMO is set' }
  if (ctx.parts.remote !== undefined) return { refused: 'a remote cache takes part' }
  if (config.configFile !== undefined && !ctx.configRemembered) return { refused: 'the config was evaluated, not remembered' }
  // The cheap refusals first: a plan after a change, or a cold one, is refused here.
  for (const { id, status, restorable, remote, spec } of items) {
    if (status !== 'cached' || restorable || remote || !spec) return { refused: `${id} is not cached in the local store` }
    if (!ctx.loader.isMemoized(spec)) return { refused: `${id} was evaluated, not remembered` }
  }
  const settled = startedAt - RACY_MS
  const dirs = discoveryFolders(config, settled)
  if (!dirs) return { refused: 'a folder specs are searched in changed in the last 2 s (or a glob reaches outside the root)' }
  const files: Record<string, string> = {}
  let fresh: string | undefined
  // A stamp this plan already checked (the memo's for specs' inputs, the index's for entries and
  // objects) is taken as it is rather than stat'ed again, when it had settled.
  const add = (path: string, checked?: string): boolean => {
    if (path in files) return true
    const stamp = checked !== undefined && isPackedSettled(checked, settled) ? checked : witnessFile(path, settled)
    if (stamp === undefined) fresh = path
    else files[path] = stamp
    return stamp !== undefined
  }
  const refused = () => ({ refused: fresh ? `${fresh} changed in the last 2 s` : 'a cached key is not in the store index' })
  // The config: its files, and every name that could take its place (the first one found wins).
  const configs = CONFIG_FILE_NAMES.map((name) => join(config.root, name))
  for (const path of [...configs, ...ctx.configDeps, ...ctx.code, ...ownFiles(), join(config.root, LOCKFILE_NAME)]) if (!add(path)) return refused()
  // The spec memo is what vouched for every spec: deleting it asks for them to be evaluated again.
  // Its presence only: it is rewritten whenever it learns a stamp, which changes no answer.
  const memo = SpecMemo.path(resolve(config.root, config.cacheDir), ctx.parts.provider.id)
  const present = witnessPresence(memo)
  if (!present) return { refused: `${memo} is missing` }
  files[memo] = present
  const vouched = await ctx.loader.vouchedStamps()
  for (const { spec } of items) {
    const entry = spec && store.indexedEntryFiles(spec.key)
    if (!spec || !entry) return refused()
    for (const path of spec.inputs) if (!add(path, vouched(path))) return refused()
    for (const [path, packed] of entry) if (!add(path, packed)) return refused()
  }
  return { files, dirs }
}

/** Core's own code: the folder this module was loaded from (dist/bundle once bundled). */
function ownFiles(): string[] {
  const dir = dirname(fileURLToPath(import.meta.url))
  return readdirSync(dir)
    .filter((name) => /\.[cm]?[jt]s$/.test(name))
    .map((name) => join(dir, name))
}
