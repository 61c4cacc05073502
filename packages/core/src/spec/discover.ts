import { isAbsolute, relative, resolve, sep } from 'node:path'
import { relativeInside, toPosix } from '../paths.js'
import type { ResolvedConfig } from '../config/resolve.js'
import { folderStamps, recalled, remember, type DiscoveryQuery } from './discovery-memo.js'

/** Never searched or watched, whatever the config says: dependencies, build outputs and VCS internals. */
export const IGNORED_DIRS = ['node_modules', 'dist', 'build', '.git'] as const
export const ALWAYS_IGNORED = IGNORED_DIRS.map((d) => `**/${d}/**`)

/** The cache dir as an ignore glob, when it lies inside the root (outside, the globs cannot reach it). */
function cacheDirGlob(root: string, cacheDir: string, escapePath: (p: string) => string): string | undefined {
  const rel = relativeInside(root, cacheDir)
  return rel === undefined ? undefined : `${escapePath(toPosix(rel))}/**`
}

type DiscoveryConfig = Pick<ResolvedConfig, 'root' | 'cacheDir' | 'include' | 'ignore'>

/**
 * Absolute paths of every spec under the root that the config's globs match, sorted. With `memo`,
 * the last answer when no folder the globs could reach has changed since (spec/discovery-memo.ts),
 * and a new answer is remembered when `memo.write` (only into a store that exists).
 */
export async function discoverSpecs(
  config: DiscoveryConfig,
  opts: { memo?: { write: boolean } } = {},
): Promise<string[]> {
  const query = discoveryQuery(config)
  if (opts.memo) {
    const files = recalled(query, IGNORED_DIRS)
    if (files) return files
  }
  const folders = opts.memo?.write ? folderStamps(query, IGNORED_DIRS) : undefined
  const files = await globSpecs(config)
  if (folders) remember(query, IGNORED_DIRS, folders, files)
  return files
}

function discoveryQuery(config: DiscoveryConfig): DiscoveryQuery {
  const root = resolve(config.root)
  return { root, cacheDir: resolve(root, config.cacheDir), include: config.include, ignore: config.ignore }
}

/**
 * The stamps of every folder discovery could find a spec in, when all of them changed before
 * `settled` (ms): while they hold, discovery finds the same files. Undefined otherwise.
 */
export function discoveryFolders(config: DiscoveryConfig, settled: number): Record<string, string> | undefined {
  return folderStamps(discoveryQuery(config), IGNORED_DIRS, settled)
}

async function globSpecs(config: DiscoveryConfig): Promise<string[]> {
  // Imported here, not with the module: the Vite plugin and a memo-only run never glob. tinyglobby
  // (fdir + picomatch, what Vite uses) loads in a fraction of fast-glob's time, which a no-op plan feels.
  const { glob, escapePath } = await import('tinyglobby')
  const root = resolve(config.root)
  const cache = cacheDirGlob(root, resolve(root, config.cacheDir), escapePath)
  const files = await glob(config.include, {
    cwd: root,
    absolute: true,
    onlyFiles: true,
    // A pattern naming a folder matches that folder, not everything in it (fast-glob's meaning).
    expandDirectories: false,
    ignore: [...ALWAYS_IGNORED, ...(cache ? [cache] : []), ...config.ignore],
    // Not following symlinked folders at all: a link into node_modules (or a link cycle) would
    // otherwise be walked under an innocent-looking path that the ignore globs do not match.
    followSymbolicLinks: false,
  })
  return files.map((f) => resolve(f)).sort()
}

/** A `.` or `..` segment, a doubled separator or a trailing one: a path resolve() would change. */
const NOT_NORMAL = /(^|[\\/])\.\.?([\\/]|$)|[\\/]{2}|[\\/]$/

/** A spec's project-relative posix path, e.g. `pages/hero.video.ts`: stable across machines. */
export function specId(root: string, file: string): string {
  // The common case, an absolute normalized path below an absolute normalized root, without the
  // two resolve()s and a relative() that cost more than reading the spec (a plan of 10,000 asks 30,000 times).
  if (isAbsolute(file) && isAbsolute(root) && file.startsWith(root) && file[root.length] === sep && !NOT_NORMAL.test(file)) {
    return toPosix(file.slice(root.length + 1))
  }
  return toPosix(relative(resolve(root), resolve(root, file)))
}

/**
 * What a spec file is, in one place: a module named `<name>.video.<ext>` with one of these
 * extensions (the default include glob takes all of them).
 * Discovery's names, the Vite plugin's imports and watch mode all go by it.
 */
export const SPEC_EXTENSIONS = Object.freeze(['ts', 'mts', 'js', 'mjs'] as const)
export const SPEC_FILE_RE = new RegExp(`\\.video\\.(?:${SPEC_EXTENSIONS.join('|')})$`)

/** The spec id without its `.video.ts` suffix, e.g. `pages/hero`: the clip's name in outputs. */
export function specName(root: string, file: string): string {
  return specId(root, file).replace(SPEC_FILE_RE, '')
}
