export { Store } from './store.js'
export type { GcOptions, GcReport, LockOptions, SpecState, StoreLock, VerifyProblem, VerifyReport } from './types.js'
export type { RestoreReport } from './trash.js'
export type { Quarantined } from './quarantine.js'
