/** Paths inside the bucket (under the prefix): the local store's own layout, plus claims. */
export const remotePaths = {
  entry: (key: string) => `entries/${key}.json`,
  object: (digest: string, ext: string) => `objects/${digest}.${ext}`,
  claim: (key: string) => `claims/${key}.json`,
}

/** Who holds a key's claim: one process on one machine, about to pay for a generation. */
export interface ClaimRecord {
  version: 1
  key: string
  spec: string
  owner: string
  /** ISO time the claim was taken; a claim older than the job timeout may be taken over. */
  at: string
}

export function isClaimRecord(v: unknown): v is ClaimRecord {
  if (typeof v !== 'object' || v === null) return false
  const r = v as Partial<ClaimRecord>
  return r.version === 1 && typeof r.key === 'string' && typeof r.owner === 'string' && typeof r.at === 'string'
}
