import type { VidspecConfigInput } from '../config/types.js'
import type { VidspecError } from '../errors.js'
import type { SpendLimits } from '../guards.js'
import type { Logger } from '../logger.js'
import type { FieldChange } from '../plan/diff.js'
import type { Provider } from '../providers/types.js'
import type { RenditionsInput } from '../renditions/types.js'
import type { Entry } from '../types.js'

import type { LoadedSpec } from '../spec/loader.js'

export type { LoadedSpec }

export type PlanStatus = 'new' | 'changed' | 'cached' | 'invalid'

export interface PlanItem {
  id: string
  name: string
  file: string
  status: PlanStatus
  key?: string
  /** For `changed`: what differs from the spec's last build. */
  changes?: FieldChange[]
  /** For `changed`: project-relative files (the spec or modules it imports) that differ since then. */
  changedDeps?: string[]
  /** For `changed`: what the comparison is against: the approved clip in the lockfile, or the last build. */
  basis?: 'lockfile' | 'last build'
  /** For `changed` against the lockfile: the provider of the approved clip. */
  previousProvider?: string
  /** For `cached`: the clip is not in the store yet but the lockfile's approved object is, and will be used. */
  restorable?: boolean
  /** For `cached`: the clip is not in the store yet but the remote cache has it, and a build fetches it. */
  remote?: boolean
  /** For `new` / `changed` with a paid provider: estimated dollars (undefined when no price is known). */
  estimate?: number | undefined
  error?: VidspecError
  spec?: LoadedSpec
}

export type BuildStatus = 'cached' | 'generated' | 'failed' | 'invalid' | 'blocked'

export interface BuildItem {
  id: string
  name: string
  file: string
  status: BuildStatus
  key?: string
  entry?: Entry
  error?: Error
  durationMs: number
  /** The spec's own `renditions` (for `writeOutputs`: what `--out` ships of the clip). */
  renditions?: RenditionsInput | undefined
}

export interface BuildResult {
  items: BuildItem[]
  counts: Record<BuildStatus, number>
  /** Set when --frozen / --max-jobs / --max-cost stopped the run before any request. */
  blocked?: VidspecError
  lockfileUpdated?: boolean
}

export interface BuildOptions extends SpendLimits {
  /** Only these spec files (the lockfile then keeps every other spec as it was). */
  files?: string[]
  signal?: AbortSignal
  /** Write vidspec.lock.json. @default true */
  lockfile?: boolean
}

export interface OpenOptions {
  root: string
  configFile?: string
  env?: NodeJS.ProcessEnv
  /** Settings that win over the config file (CLI flags, Vite plugin options). */
  overrides?: Partial<VidspecConfigInput>
  logger?: Logger
  /** Tests and embedders may supply their own provider. */
  provider?: Provider
  /** Create again for keys whose earlier create may have started an unknown job (see Runner). */
  retryUncertain?: boolean
  /**
   * Create the store when there is none. Only commands that make clips (build, watch, the Vite
   * plugin) do; plan, status, verify and gc read an absent store as an empty one. @default true
   */
  createStore?: boolean
}
