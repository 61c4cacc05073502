import { loadConfig, resolveProvider } from '@vidspec/core'
import type { Io } from './output.js'
import { findRoot } from './project.js'

/** What this project's settings resolve to, for `--help` (undefined when the config cannot be read). */
export interface HelpDefaults {
  root: string
  provider: string
  concurrency: number
  frozen: boolean
  previews: string
}

/**
 * The defaults `--help` shows: this project's, from its config and the environment, so the help
 * says what a run here would do. Reads only (no store is created); a broken config falls back to
 * the built-in defaults.
 */
export async function helpDefaults(io: Io, values: { root?: string | undefined; config?: string | undefined }): Promise<HelpDefaults | undefined> {
  try {
    const root = findRoot(io, values)
    const { config } = await loadConfig(root, { env: io.env, ...(values.config ? { configFile: values.config } : {}) })
    return { root, provider: await resolveProvider(config), concurrency: config.concurrency, frozen: config.frozen, previews: config.previews }
  } catch {
    return undefined
  }
}

/** `(here: together)` after a built-in default, when the project resolves it to something to show. */
export function here(value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `; here: ${String(value)}`
}
