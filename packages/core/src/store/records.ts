import { statSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import pLimit from 'p-limit'
import type { Entry } from '../types.js'
import { errorCode, readJson } from './atomic.js'
import { isDigest, isKey, parseObjectName, type StoreLayout } from './layout.js'
import { isEntry } from './shape.js'

export interface EntryFile {
  /** From the file name. */
  key: string
  path: string
  entry?: Entry
  /** Why the file is not a usable entry. */
  problem?: string
  /** The digest a malformed (but parsable) entry names: gc will not delete what it may still point at. */
  claimedDigest?: string
}

export interface ObjectFile {
  digest: string
  ext: string
  path: string
  size: number
  mtimeMs: number
}

/** File names in `dir`, or none when the directory does not exist yet. */
export async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort()
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return []
    throw err
  }
}

/** Like Promise.all over `items`, a few at a time: a big store must not run out of file handles. */
export function mapLimited<T, R>(items: T[], fn: (item: T) => Promise<R>, limit = 16): Promise<R[]> {
  const run = pLimit(limit)
  return Promise.all(items.map((item) => run(() => fn(item))))
}

/** Reads one entry file; the problem says why it cannot be used. */
export async function readEntryFile(layout: StoreLayout, key: string): Promise<EntryFile> {
  const path = layout.entryPath(key)
  const read = await readJson(path)
  if (!read.ok) return { key, path, problem: read.reason === 'missing' ? 'missing' : 'not valid JSON' }
  if (!isEntry(read.value)) {
    const claimed = (read.value as { digest?: unknown } | null)?.digest
    return { key, path, problem: 'not a valid entry', ...(isDigest(claimed) ? { claimedDigest: claimed } : {}) }
  }
  if (read.value.key !== key) {
    return { key, path, problem: `holds key ${read.value.key}, not ${key}`, claimedDigest: read.value.digest }
  }
  return { key, path, entry: read.value }
}

/** Keys of the files in `dir` named `<key><suffix>`; other names are not the store's and are skipped. */
export async function keysNamed(dir: string, suffix: string): Promise<string[]> {
  return (await names(dir))
    .filter((n) => n.endsWith(suffix))
    .map((n) => n.slice(0, -suffix.length))
    .filter(isKey)
}

/** Every file in entries/ that looks like an entry, usable or not. */
export async function scanEntries(layout: StoreLayout): Promise<EntryFile[]> {
  const keys = await keysNamed(layout.entries, '.json')
  const files = await mapLimited(keys, (key) => readEntryFile(layout, key))
  return files.filter((f) => f.problem !== 'missing')
}

/** Every file in objects/ named like an object; other names are not the store's and are left alone. */
export async function scanObjects(layout: StoreLayout): Promise<ObjectFile[]> {
  const out: ObjectFile[] = []
  for (const name of await names(layout.objects)) {
    const parsed = parseObjectName(name)
    if (!parsed) continue
    const path = join(layout.objects, name)
    try {
      const st = await stat(path)
      if (st.isFile()) out.push({ ...parsed, path, size: st.size, mtimeMs: st.mtimeMs })
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err
    }
  }
  return out
}

/** Size of the object file, or undefined when it is absent or not a file. */
export async function objectSize(path: string): Promise<number | undefined> {
  try {
    // Synchronous for the same reason as readJson: one cheap call per cache hit.
    const st = statSync(path)
    return st.isFile() ? st.size : undefined
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return undefined
    throw err
  }
}
