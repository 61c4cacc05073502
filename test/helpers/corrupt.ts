import { createHash } from 'node:crypto'
import { readdir, readFile, stat, truncate, utimes, writeFile } from 'node:fs/promises'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import type { Entry } from '@vidspec/core'

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
export const sha256File = async (path: string): Promise<string> => sha256(await readFile(path))

/** The entries in a store, parsed. */
export async function entries(storeDir: string): Promise<Entry[]> {
  const names = (await readdir(join(storeDir, 'entries')).catch(() => [])).filter((n) => n.endsWith('.json'))
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(storeDir, 'entries', n), 'utf8')) as Entry))
}

export const objectFile = (storeDir: string, e: Pick<Entry, 'digest' | 'ext'>): string => join(storeDir, 'objects', `${e.digest}.${e.ext}`)

/** One byte flipped in place, size and mtime put back: only ctime tells. */
export async function flipByte(path: string, at = 200): Promise<void> {
  const before = await stat(path)
  const bytes = await readFile(path)
  bytes[at] = (bytes[at] ?? 0) ^ 0xff
  await writeFile(path, bytes)
  await utimes(path, before.atime, before.mtime)
}

/** Cut to half its size, mtime put back. */
export async function truncateHalf(path: string): Promise<void> {
  const before = await stat(path)
  await truncate(path, Math.floor(before.size / 2))
  await utimes(path, before.atime, before.mtime)
}

/**
 * Makes the store's stamp vouch for the object as it is now, as if the corruption happened in a way
 * no stat can see (bit rot under an unchanged inode). Only a hash on the way out can catch it then.
 */
export async function forgeStamp(storeDir: string, e: Pick<Entry, 'digest' | 'ext'>): Promise<void> {
  const st = statSync(objectFile(storeDir, e), { bigint: true })
  const stamp = { size: String(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs), ino: String(st.ino), dev: String(st.dev) }
  await writeFile(join(storeDir, 'stamps', `${e.digest}.${e.ext}.json`), JSON.stringify(stamp))
}

/** Files moved to quarantine/ (their notes left out). */
export async function quarantined(storeDir: string): Promise<string[]> {
  return (await readdir(join(storeDir, 'quarantine')).catch(() => [])).filter((n) => !n.endsWith('.json')).map((n) => join(storeDir, 'quarantine', n))
}
