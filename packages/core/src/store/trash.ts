import { link, mkdir, readdir, rename, rm, rmdir, unlink } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { errorCode, fsyncDir } from './atomic.js'
import { isKey, parseObjectName, randomId, type StoreLayout } from './layout.js'
import { names } from './records.js'

/**
 * gc's trash: `trash/<batch>/{entries,objects}/`, one batch per gc run. Paid clips (and objects
 * nobody claims, which may be paid clips whose entry was lost) go here instead of being deleted;
 * `restoreTrash` puts everything back, `emptyTrash` is the only way they are deleted.
 */
export class TrashBatch {
  readonly dir: string
  #made = false

  constructor(readonly layout: StoreLayout) {
    this.dir = join(layout.trash, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomId()}`)
  }

  /** Moves a file of entries/ or objects/ into this batch; false when it was gone already. */
  async put(path: string, folder: 'entries' | 'objects'): Promise<boolean> {
    if (!this.#made) {
      await mkdir(join(this.dir, 'entries'), { recursive: true })
      await mkdir(join(this.dir, 'objects'), { recursive: true })
      this.#made = true
    }
    try {
      await rename(path, join(this.dir, folder, basename(path)))
      return true
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return false
      throw err
    }
  }

  async sync(): Promise<void> {
    if (!this.#made) return
    await fsyncDir(join(this.dir, 'entries'))
    await fsyncDir(join(this.dir, 'objects'))
  }
}

export interface RestoreReport {
  /** Keys whose entries are back in entries/. */
  entries: string[]
  /** Object files back in objects/. */
  objects: string[]
  /** Trashed entries left in the trash because the key has a newer entry now. */
  skipped: string[]
}

/**
 * Moves everything in the trash back: objects first (an entry never points nowhere), then entries,
 * except where the key has been built again meanwhile (the newer entry wins; the old one stays in
 * the trash, still restorable by hand).
 */
export async function restoreTrash(layout: StoreLayout): Promise<RestoreReport> {
  const report: RestoreReport = { entries: [], objects: [], skipped: [] }
  const batches = await names(layout.trash)
  for (const batch of batches) {
    const dir = join(layout.trash, batch)
    for (const name of await names(join(dir, 'objects'))) {
      if (!parseObjectName(name)) continue
      if (await moveIfAbsent(join(dir, 'objects', name), join(layout.objects, name))) report.objects.push(name)
    }
  }
  await fsyncDir(layout.objects)
  for (const batch of batches) {
    const dir = join(layout.trash, batch)
    for (const name of await names(join(dir, 'entries'))) {
      const key = name.endsWith('.json') ? name.slice(0, -'.json'.length) : ''
      if (!isKey(key)) continue
      if (await moveIfAbsent(join(dir, 'entries', name), layout.entryPath(key))) report.entries.push(key)
      else report.skipped.push(key)
    }
    await removeIfEmpty(dir)
  }
  await fsyncDir(layout.entries)
  return report
}

/** Deletes the trash for good: the one explicit step that removes a paid clip. */
export async function emptyTrash(layout: StoreLayout, dryRun: boolean): Promise<{ files: string[] }> {
  const files: string[] = []
  for (const batch of await names(layout.trash)) {
    for (const folder of ['entries', 'objects']) {
      for (const name of await names(join(layout.trash, batch, folder))) files.push(join(layout.trash, batch, folder, name))
    }
  }
  if (!dryRun) await rm(layout.trash, { recursive: true, force: true })
  return { files }
}

async function moveIfAbsent(from: string, to: string): Promise<boolean> {
  try {
    // A hard link fails if the target exists: never overwrite what is there now.
    await link(from, to)
    await unlink(from)
    return true
  } catch (err) {
    if (errorCode(err) === 'EEXIST') return false
    throw err
  }
}

async function removeIfEmpty(dir: string): Promise<void> {
  for (const folder of ['entries', 'objects']) {
    try {
      await rmdir(join(dir, folder))
    } catch {
      // not empty, or not there
    }
  }
  try {
    if ((await readdir(dir)).length === 0) await rmdir(dir)
  } catch {
    // not there
  }
}
