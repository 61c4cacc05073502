import type { DerivedRecord } from '../renditions/types.js'
import { readJson } from './atomic.js'
import { isDigest, isExt, isKey, type StoreLayout } from './layout.js'
import { keysNamed, mapLimited } from './records.js'

// Derived objects (renditions, posters, placeholders) live in objects/ like clips, content-addressed,
// but are recorded apart from entries (derived/<renditionKey>.json): they can always be made again
// from their master, so gc takes them first and never takes a master because of them.

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

export function isDerivedRecord(v: unknown): v is DerivedRecord {
  return (
    isObj(v) &&
    v.version === 1 &&
    isKey(v.key) &&
    (v.kind === 'video' || v.kind === 'poster' || v.kind === 'placeholder') &&
    isDigest(v.master) &&
    isObj(v.recipe) &&
    v.recipe.kind === v.kind &&
    isObj(v.encoder) &&
    isDigest(v.digest) &&
    isExt(v.ext) &&
    Number.isSafeInteger(v.size) &&
    (v.size as number) > 0 &&
    typeof v.type === 'string' &&
    isNum(v.width) &&
    isNum(v.height) &&
    isNum(v.duration) &&
    isObj(v.from) &&
    (v.method === 'remux' || v.method === 'encode') &&
    (v.inline === undefined || typeof v.inline === 'string') &&
    typeof v.spec === 'string' &&
    typeof v.createdAt === 'string'
  )
}

export interface DerivedFile {
  key: string
  path: string
  record?: DerivedRecord
}

export async function readDerivedFile(layout: StoreLayout, key: string): Promise<DerivedFile> {
  const path = layout.derivedPath(key)
  const read = await readJson(path)
  if (!read.ok) return { key, path }
  return isDerivedRecord(read.value) && read.value.key === key ? { key, path, record: read.value } : { key, path }
}

/** Every derived record file, usable or not (an unusable one is removed by gc and verify --repair). */
export async function scanDerived(layout: StoreLayout): Promise<DerivedFile[]> {
  return mapLimited(await keysNamed(layout.derived, '.json'), (key) => readDerivedFile(layout, key))
}
