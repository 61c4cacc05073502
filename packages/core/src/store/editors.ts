import { hostname } from 'node:os'
import { join } from 'node:path'
import { mkdir, readdir } from 'node:fs/promises'
import { randomId } from './layout.js'
import { readJson, removeFile, writeJsonAtomic } from './atomic.js'
import { pidAlive, processStart } from './lock.js'

interface EditorRecord {
  pid: number
  hostname: string
  pidStart?: string | undefined
  kind: string
  settleMs: number
}

export interface EditorHandle {
  /** Removes the record (on close; a crashed process's record is ignored once its pid is gone). */
  leave(): Promise<void>
}

const editorsDir = (storeDir: string) => join(storeDir, 'editors')

/**
 * The processes editing a project right now (`vidspec watch`, dev servers), recorded in the store
 * they share with the quiet time each waits before a paid create. Every one of them settles for the
 * longest: a burst of saves that one process would coalesce is never paid key by key by another
 * (watch's settle is off by default; a dev server's is not), so running both never spends more
 * than the most patient of them alone. Together with the files themselves (a key is wanted only
 * while its spec's files still hash as keyed) this is the one notion of "wanted" they share.
 */
export async function joinEditors(storeDir: string, opts: { kind: string; settleMs: number }): Promise<EditorHandle> {
  const dir = editorsDir(storeDir)
  await mkdir(dir, { recursive: true })
  const file = join(dir, `${randomId()}.json`)
  const record: EditorRecord = { pid: process.pid, hostname: hostname(), pidStart: processStart(process.pid), kind: opts.kind, settleMs: opts.settleMs }
  // Not durable: after a power cut the record's process is gone anyway.
  await writeJsonAtomic(join(storeDir, 'tmp'), file, record, { durable: false })
  return { leave: () => removeFile(file).then(() => undefined) }
}

/**
 * The quiet time a create for this store waits: the longest of `own` and every live editor's. An
 * editor on another machine cannot be checked for life and is left out (its record may be stale).
 */
export async function sharedSettleMs(storeDir: string, own: number): Promise<number> {
  const dir = editorsDir(storeDir)
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return own
  }
  let longest = own
  const host = hostname()
  for (const name of names) {
    if (!name.endsWith('.json')) continue
    const read = await readJson(join(dir, name))
    if (!read.ok) continue
    const r = read.value as Partial<EditorRecord>
    if (typeof r.pid !== 'number' || typeof r.settleMs !== 'number' || r.hostname !== host) continue
    if (r.settleMs <= longest) continue
    if (!pidAlive(r.pid, r.pidStart)) {
      await removeFile(join(dir, name))
      continue
    }
    longest = r.settleMs
  }
  return longest
}
