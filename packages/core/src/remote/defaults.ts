/** The default lease: a heartbeat every 15 s, stale after 2 minutes of silence by the bucket's clock. */
export const LEASE_DEFAULTS = Object.freeze({ heartbeatMs: 15_000, staleMs: 120_000 })
