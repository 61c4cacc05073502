import { resolve } from 'node:path'
import { Vidspec, VidspecError, type Logger, type OpenOptions, type VidspecConfigInput } from '@vidspec/core'
import type { Io } from './output.js'
import { locateRoot } from './root.js'

/** The project a command works on (see `locateRoot`); a bad --root is a usage error. */
export function findRoot(io: Io, values: { root?: string | undefined; config?: string | undefined }): string {
  const found = locateRoot(io.cwd, values)
  if ('problem' in found) throw new VidspecError('USAGE', found.problem)
  return found.root
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
