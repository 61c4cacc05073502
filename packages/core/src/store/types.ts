import type { NormalizedRequest } from '../types.js'

/** The last successful build of one spec (`specs/<sha256 of spec id>.json`); `plan` diffs against it. */
export interface SpecState {
  /** Project-relative spec id. */
  spec: string
  key: string
  request: NormalizedRequest
  /** Written media ref -> sha256 of its content. */
  media: Record<string, string>
  /** Project-relative dependency file -> sha256 of its content. */
  deps: Record<string, string>
  /** When a build first recorded these inputs: a later build from the same ones keeps the record as it is. */
  builtAt: string
}

export interface StoreLock {
  readonly key: string
  release(): Promise<void>
  /** False after release, or once another process took the lock over. */
  readonly held: boolean
  /** Re-reads the lock file: true only if it is still this holder's (the runner asks right before a create). */
  verify(): Promise<boolean>
}

export interface LockOptions {
  signal?: AbortSignal | undefined
  /**
   * A lock whose holder cannot be checked (not yet written, or this process's own) is abandoned when
   * its file was not refreshed for this long. A holder alive on this host is never taken over. @default 30_000
   */
  staleMs?: number | undefined
  /** A holder on another host is presumed alive this long after its last heartbeat. @default 3_600_000 */
  otherHostStaleMs?: number | undefined
  /** @default 100 */
  pollMs?: number | undefined
  /** Called once, when the lock is busy and the caller has to wait (with its holder, when known). */
  onWait?: ((holder?: LockHolder) => void) | undefined
}

/** The process holding a lock, as its lock file says. */
export interface LockHolder {
  pid: number
  hostname: string
  /** On this host: never taken over while the process lives. */
  sameHost: boolean
  heartbeatAgeMs: number
}

export interface VerifyProblem {
  /** The entry concerned; absent for an object no entry points at. */
  key?: string | undefined
  /** The object's digest; absent for an entry file that cannot be read at all. */
  digest?: string | undefined
  path: string
  reason: string
}

export interface VerifyReport {
  /** Objects re-hashed. */
  checked: number
  /** Objects whose bytes match their digest. */
  ok: number
  /** Objects whose bytes do not match, entries that disagree with their object, unreadable entry files. */
  corrupt: VerifyProblem[]
  /** Entries whose object is not there. */
  missing: Array<{ key: string; digest: string; path: string }>
  /** Sound objects no entry points at (gc removes them). */
  orphans: Array<{ digest: string; path: string; size: number }>
  /** Entry files and temp files repair removed (empty without `repair`). */
  removed: string[]
  /** Where repair moved bad objects (quarantine/): kept, never deleted, since one may be the only copy of a paid clip. */
  quarantined: string[]
  /** Derived objects (renditions, posters, placeholders) probed again: how many, and how many passed their checks. */
  renditions?: { checked: number; ok: number } | undefined
}

export interface GcOptions {
  /** Keys in use: their entries and every object they reference are never removed. */
  keep: Set<string>
  dryRun?: boolean | undefined
  /** Only remove unused entries created more than this many days ago. */
  keepDays?: number | undefined
  /** Only remove unused entries, oldest first, until the objects total at most this many bytes. */
  maxSizeBytes?: number | undefined
  /** Also take paid entries no kept key needs, into the trash (never deleted here). @default false */
  includePaid?: boolean | undefined
  now?: Date | undefined
}

export interface GcReport {
  /** Preview entries deleted (free to render again). */
  removedEntries: string[]
  /** Paths of deleted objects (previews only). */
  removedObjects: string[]
  /** Paid entries moved to the trash (`includePaid`). */
  trashedEntries: string[]
  /** Objects moved to the trash: paid clips, and old objects no entry names. */
  trashedObjects: string[]
  /** Paid entries no kept key needs, kept because `includePaid` was not given. */
  paidSpared: string[]
  /** Bytes deleted (the trash still holds what was moved there). */
  freedBytes: number
  /** Entries left in the store. */
  kept: number
  /**
   * Derived objects' records removed (renditions, posters, placeholders: made again from their
   * master for free). They go before any master, and whenever their master goes.
   */
  removedDerived: string[]
}
