import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { readJson, writeJsonAtomic } from '../store/atomic.js'
import { hashFiles } from '../spec/load.js'
import { readsEnvironment } from '../spec/purity.js'

/** Bump when the config schema changes: a remembered config skips the check. */
const MEMO_VERSION = 1

interface ConfigMemoFile {
  version: typeof MEMO_VERSION
  file: string
  /** Absolute path -> sha256 of the config file and everything it imported. */
  inputs: Record<string, string>
  value: unknown
}

/**
 * The evaluated default export of `vidspec.config.ts`, remembered by the content hashes of the file
 * and its imports, so a run whose config did not change skips bundling and evaluating it (starting
 * esbuild costs more than the rest of a no-op plan). Only plain JSON values are remembered; a config
 * holding anything else, or reading the environment, is evaluated every time. Only a config that
 * passed the schema is remembered, so a hit skips that check too. It lives under `node_modules/.cache/vidspec`, where
 * build tools keep such caches, because the store's location is itself a config option.
 */
export class ConfigMemo {
  readonly #path: string
  readonly #tmp: string

  constructor(root: string) {
    const dir = join(root, 'node_modules', '.cache', 'vidspec')
    this.#path = join(dir, 'config-memo.json')
    this.#tmp = dir
  }

  async get(file: string): Promise<{ value: unknown; deps: string[] } | undefined> {
    const read = await readJson(this.#path).catch(() => undefined)
    const memo = read?.ok ? (read.value as Partial<ConfigMemoFile>) : undefined
    if (memo?.version !== MEMO_VERSION || memo.file !== file || !memo.inputs || !(file in memo.inputs)) return undefined
    const inputs = memo.inputs
    const now = await hashFiles(Object.keys(inputs)).catch(() => undefined)
    if (!now || Object.entries(inputs).some(([path, sha]) => now[path] !== sha)) return undefined
    return { value: memo.value, deps: Object.keys(inputs) }
  }

  /** Best effort: a read-only checkout just evaluates its config every time. */
  async set(file: string, value: unknown, deps: string[]): Promise<void> {
    const files = [...new Set([file, ...deps])]
    // A config that reads the environment is not a function of its files alone.
    if (await readsEnvironment(files)) return
    let plain: unknown
    try {
      plain = JSON.parse(JSON.stringify(value)) as unknown
    } catch {
      return
    }
    if (!isDeepStrictEqual(plain, value)) return
    try {
      const inputs = await hashFiles(files)
      const memo: ConfigMemoFile = { version: MEMO_VERSION, file, inputs, value: plain }
      await writeJsonAtomic(this.#tmp, this.#path, memo, { durable: false })
    } catch {
      // Not worth failing a build over.
    }
  }
}
