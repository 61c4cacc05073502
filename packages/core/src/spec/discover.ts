import { isAbsolute, relative, resolve, sep } from 'node:path'
import { relativeInside, toPosix } from '../paths.js'
import type { ResolvedConfig } from '../config/resolve.js'

/** Never searched or watched, whatever the config says: dependencies, build outputs and VCS internals. */
export const IGNORED_DIRS = ['node_modules', 'dist', 'build', '.git'] as const
export const ALWAYS_IGNORED = IGNORED_DIRS.map((d) => `**/${d}/**`)

/** The cache dir as an ignore glob, when it lies inside the root (outside, the globs cannot reach it). */
function cacheDirGlob(root: string, cacheDir: string, escapePath: (p: string) => string): string | undefined {
  const rel = relativeInside(root, cacheDir)
  return rel === undefined ? undefined : `${escapePath(toPosix(rel))}/**`
}

/** Absolute paths of every spec under the root that the config's globs match, sorted. */
export async function discoverSpecs(config: Pick<ResolvedConfig, 'root' | 'cacheDir' | 'include' | 'ignore'>): Promise<string[]> {
  // Imported here, not with the module: the Vite plugin and a memo-only run never glob.
  // tinyglobby, not fast-glob: it loads in about a third of the time, which every `vidspec plan` pays.
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

/** A spec's project-relative posix path, e.g. `pages/hero.video.ts`: stable across machines. */
export function specId(root: string, file: string): string {
  // A no-op plan asks this several times per spec; discovered files are normalized absolute paths
  // under a normalized root, where cutting the root off is exactly what `relative` computes.
  if (isPlainPath(root) && file.length > root.length + 1 && file.startsWith(root) && file[root.length] === sep && isPlainPath(file)) {
    return toPosix(file.slice(root.length + 1))
  }
  return toPosix(relative(resolve(root), resolve(root, file)))
}

/** Absolute, with no `.`/`..` segment, doubled or trailing separator: already what `resolve` gives. */
function isPlainPath(p: string): boolean {
  return (
    isAbsolute(p) &&
    p.length > 1 &&
    !p.endsWith(sep) &&
    !p.includes(`${sep}${sep}`) &&
    !p.includes(`${sep}.${sep}`) &&
    !p.includes(`${sep}..${sep}`) &&
    !p.endsWith(`${sep}.`) &&
    !p.endsWith(`${sep}..`) &&
    (sep === '/' || !p.includes('/'))
  )
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
