import { existsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { CONFIG_FILE_NAMES, Vidspec, VidspecError, type Logger, type OpenOptions, type VidspecConfigInput } from '@vidspec/core'
import type { Io } from './output.js'

/**
 * The project a command works on. `--root` wins (it must be an existing folder); otherwise, like
 * Vite and ESLint, the nearest folder from the working directory upward that holds a
 * `vidspec.config.*`, stopping at the repository root (a folder with `.git`); with none found, the
 * working directory.
 */
export function findRoot(io: Io, values: { root?: string | undefined; config?: string | undefined }): string {
  if (values.root !== undefined) {
    const root = resolve(io.cwd, values.root)
    if (!isDir(root)) {
      throw new VidspecError('USAGE', `--root ${values.root}: ${existsSync(root) ? 'not a folder' : 'no such folder'} (${root})`)
    }
    return root
  }
  if (values.config !== undefined) return io.cwd
  for (let dir = resolve(io.cwd); ; dir = dirname(dir)) {
    if (CONFIG_FILE_NAMES.some((name) => existsSync(join(dir, name)))) return dir
    if (existsSync(join(dir, '.git')) || dirname(dir) === dir) return resolve(io.cwd)
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * Opens the project without creating its store: only `build` and `watch` create one, and only
 * once there is something to build (`project.ensureStore()`).
 */
export function openProject(
  io: Io,
  values: { root?: string | undefined; config?: string | undefined },
  logger: Logger,
  overrides: Partial<VidspecConfigInput> = {},
  extra: Pick<OpenOptions, 'retryUncertain' | 'provider'> = {},
): Promise<Vidspec> {
  const root = findRoot(io, values)
  return Vidspec.open({
    root,
    ...(values.config ? { configFile: resolve(io.cwd, values.config) } : {}),
    env: io.env,
    overrides,
    logger,
    createStore: false,
    ...extra,
  })
}

/** Said when a project has no spec at all, so an empty result is not mistaken for "all cached". */
export function noSpecsMessage(project: Vidspec): string {
  return `no *.video.ts under ${project.config.root}; include: ${project.config.include.join(', ')}${
    project.config.ignore.length > 0 ? `; ignore: ${project.config.ignore.join(', ')}` : ''
  }`
}
