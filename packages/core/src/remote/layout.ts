/** Paths inside the bucket (under the prefix): the local store's own layout, plus claims. */
export const remotePaths = {
  entry: (key: string) => `entries/${key}.json`,
  object: (digest: string, ext: string) => `objects/${digest}.${ext}`,
  claim: (key: string) => `claims/${key}.json`,
  /** A rendition's record (`renditions.remote: true`); its object sits in objects/ like a clip's. */
  derived: (key: string) => `derived/${key}.json`,
}

/**
 * Who holds a key's claim: one process on one machine, paying for a generation. The claim is a
 * lease: its owner rewrites it every heartbeat, so the bucket's Last-Modified says how long ago the
 * owner was last seen alive (by the bucket's clock, the only clock all machines share).
 */
export interface ClaimRecord {
  version: 1
  key: string
  spec: string
  owner: string
  /** The machine and store the owner runs in (stable across its runs): who may resume a kept claim. */
  machine?: string
  /** The owner's clock at its last heartbeat (for people; staleness is judged by Last-Modified). */
  at: string
  /** Heartbeats so far: every rewrite differs, so its ETag changes. */
  beat?: number
  /** The paid job, once its id is in the owner's journal: a machine that takes over resumes it. */
  job?: { provider: string; jobId: string; createdAt: string }
  /**
   * The owner's journal holds a create intent without a job id: a create may be in flight. If the
   * owner dies now, nobody knows whether it paid, so nobody takes the claim over on its own.
   */
  intent?: boolean
  /**
   * The owner's process ended with this paid job unresolved (it outlived the job timeout, or its
   * answer never came): only that machine may resume it, so it is never stale, whatever its age.
   */
  kept?: boolean
}

export function isClaimRecord(v: unknown): v is ClaimRecord {
  if (typeof v !== 'object' || v === null) return false
  const r = v as Partial<ClaimRecord>
  return r.version === 1 && typeof r.key === 'string' && typeof r.owner === 'string' && typeof r.at === 'string'
}
