import { access } from 'node:fs/promises'
import { resolve } from 'node:path'
import { VidspecError, showValue } from '../errors.js'
import { runtimeFlags } from '../flags.js'
import { defaultExportProblem } from '../spec/default-export.js'
import { ModuleLoadError, loadModuleFile } from '../spec/load.js'
import { ConfigMemo } from './memo.js'
import { CONFIG_FILE_NAMES } from './names.js'
import { resolveConfig, type ResolvedConfig } from './resolve.js'
import type { VidspecConfigInput } from './types.js'

export { CONFIG_FILE_NAMES }

const CONFIG_HINT = "export default defineConfig({ ... }) (import { defineConfig } from '@vidspec/core')"

export interface LoadConfigOptions {
  /** A config file to use instead of looking for one (relative to the root). It must exist. */
  configFile?: string | undefined
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv | undefined
  /** CLI flags or Vite plugin options; they win over the file. */
  overrides?: Partial<VidspecConfigInput> | undefined
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  )
}

async function findConfigFile(root: string): Promise<string | undefined> {
  for (const name of CONFIG_FILE_NAMES) {
    const file = resolve(root, name)
    if (await exists(file)) return file
  }
  return undefined
}

/**
 * Finds and evaluates the project's config (or uses the defaults when there is none) and resolves
 * it. `deps` are the files the config was built from: a change to one means loading it again.
 * `remembered`: the config memo answered, so the config is a function of those files alone.
 */
export async function loadConfig(
  root: string,
  opts: LoadConfigOptions = {},
): Promise<{ config: ResolvedConfig; deps: string[]; deprecations: string[]; remembered: boolean }> {
  const absRoot = resolve(root)
  const deprecations: string[] = []
  const resolveOpts = { root: absRoot, env: opts.env, overrides: opts.overrides, onDeprecated: (m: string) => void deprecations.push(m) }
  let file: string | undefined
  if (opts.configFile !== undefined) {
    file = resolve(absRoot, opts.configFile)
    if (!(await exists(file))) {
      throw new VidspecError('CONFIG_INVALID', `${file}: config file not found; check the path given as the config file`, { file })
    }
  } else {
    file = await findConfigFile(absRoot)
  }
  if (!file) return { config: resolveConfig({}, resolveOpts), deps: [], deprecations, remembered: false }

  const memo = runtimeFlags(opts.env ?? process.env).noMemo ? undefined : new ConfigMemo(absRoot)
  let loaded: { value: unknown; deps: string[] } | undefined = await memo?.get(file)
  const remembered = loaded !== undefined
  try {
    loaded ??= await loadModuleFile(file)
  } catch (err) {
    const detail = err instanceof ModuleLoadError ? err.detail : `could not be loaded: ${err instanceof Error ? err.message : showValue(err)}`
    throw new VidspecError('CONFIG_INVALID', `${file}: ${detail}`, { file, cause: err })
  }
  const { value, deps } = loaded
  const problem = defaultExportProblem({ hasDefault: value !== undefined, value }, 'an object of options', `a config must ${CONFIG_HINT}`)
  if (problem) throw new VidspecError('CONFIG_INVALID', `${file}: ${problem}`, { file })
  const config = resolveConfig(value, { ...resolveOpts, file, checked: remembered })
  // Remembered only once it passed the check, so a memo hit may skip it.
  if (!remembered) await memo?.set(file, value, deps)
  return { config, deps, deprecations, remembered }
}
