import { createHash, randomBytes } from 'node:crypto'
import { join, sep } from 'node:path'
import { VidspecError } from '../errors.js'

// Keys and digests become file names: anything else could escape the store or collide.
const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/
const DIGEST_RE = /^[0-9a-f]{64}$/
const EXT_RE = /^[a-z0-9]{1,10}$/
const OBJECT_NAME_RE = /^([0-9a-f]{64})\.([a-z0-9]{1,10})$/

export const isKey = (value: unknown): value is string => typeof value === 'string' && KEY_RE.test(value)
export const isDigest = (value: unknown): value is string => typeof value === 'string' && DIGEST_RE.test(value)
export const isExt = (value: unknown): value is string => typeof value === 'string' && EXT_RE.test(value)

/** `<digest>.<ext>` of a file in objects/, or undefined for a name the store never writes. */
export function parseObjectName(name: string): { digest: string; ext: string } | undefined {
  const m = OBJECT_NAME_RE.exec(name)
  return m?.[1] && m[2] ? { digest: m[1], ext: m[2] } : undefined
}

/** Random once per module instance (a process, or a worker thread, which shares its pid). */
const INSTANCE = randomBytes(6).toString('hex')
let issued = 0

/**
 * A name no other writer uses: the time, the pid, this instance's random part and a counter. Not
 * fresh random bytes per name: a generated clip names several temp files, and OpenSSL's generator
 * costs a getpid and a lock per call (~30 µs here).
 */
export function randomId(): string {
  return `${Date.now().toString(36)}-${process.pid}-${INSTANCE}${(issued++).toString(36)}`
}

/** Where everything lives under the store directory. */
export class StoreLayout {
  readonly objects: string
  readonly entries: string
  readonly jobs: string
  readonly locks: string
  readonly specs: string
  readonly tmp: string
  /** `<digest>.<ext>.json`: the file's identity when it last hashed right (cheap no-op checks). */
  readonly stamps: string
  /** Objects whose bytes did not match their digest: kept (they may be the only copy of a paid clip). */
  readonly quarantine: string
  /** What gc took out: restorable with `vidspec gc --restore` until the trash is emptied. */
  readonly trash: string
  /** `<renditionKey>.json`: records of derived objects (renditions, posters, placeholders) made from masters. */
  readonly derived: string

  constructor(readonly dir: string) {
    this.objects = join(dir, 'objects')
    this.entries = join(dir, 'entries')
    this.jobs = join(dir, 'jobs')
    this.locks = join(dir, 'locks')
    this.specs = join(dir, 'specs')
    this.tmp = join(dir, 'tmp')
    this.stamps = join(dir, 'stamps')
    this.quarantine = join(dir, 'quarantine')
    this.trash = join(dir, 'trash')
    this.derived = join(dir, 'derived')
  }

  get all(): string[] {
    return [this.objects, this.entries, this.jobs, this.locks, this.specs, this.tmp, this.stamps, this.derived]
  }

  stampPath(digest: string, ext: string): string {
    return join(this.stamps, `${digest}.${ext}.json`)
  }

  objectPath(digest: string, ext: string): string {
    if (!isDigest(digest)) throw internal(`not a sha256 digest: ${JSON.stringify(digest)}`)
    if (!isExt(ext)) throw internal(`not a file extension: ${JSON.stringify(ext)}`)
    return within(this.objects, `${digest}.${ext}`)
  }

  entryPath(key: string): string {
    return within(this.entries, `${checkKey(key)}.json`)
  }

  derivedPath(key: string): string {
    return within(this.derived, `${checkKey(key)}.json`)
  }

  journalPath(key: string): string {
    return within(this.jobs, `${checkKey(key)}.json`)
  }

  uncertainPath(key: string): string {
    return within(this.jobs, `${checkKey(key)}.uncertain.json`)
  }

  lockPath(key: string): string {
    return within(this.locks, `${checkKey(key)}.lock`)
  }

  /** Spec ids are paths; hashing them gives a flat, safe file name. */
  specStatePath(specId: string): string {
    return within(this.specs, `${createHash('sha256').update(specId).digest('hex')}.json`)
  }

  tempPath(suffix: string): string {
    return join(this.tmp, `${randomId()}.${suffix}`)
  }
}

/**
 * A file named by a checked key or digest in one of the layout's folders (already normalized): what
 * `join` gives, without normalizing the whole path again. A no-op plan asks for a few thousand of
 * these, and `join` took ~6 µs each in a fresh process.
 */
function within(dir: string, name: string): string {
  return `${dir}${sep}${name}`
}

function checkKey(key: string): string {
  if (!isKey(key)) throw internal(`not a cache key: ${JSON.stringify(key)}`)
  return key
}

function internal(message: string): VidspecError {
  return new VidspecError('INTERNAL', `store: ${message}`)
}
