import { resolve } from 'node:path'
import { Vidspec, type Logger, type OpenOptions, type VidspecConfigInput } from '@vidspec/core'
import type { Io } from './output.js'

export function openProject(
  io: Io,
  values: { root?: string | undefined; config?: string | undefined },
  logger: Logger,
  overrides: Partial<VidspecConfigInput> = {},
  extra: Pick<OpenOptions, 'retryUncertain' | 'provider'> = {},
): Promise<Vidspec> {
  const root = resolve(io.cwd, values.root ?? '.')
  return Vidspec.open({
    root,
    ...(values.config ? { configFile: resolve(io.cwd, values.config) } : {}),
    env: io.env,
    overrides,
    logger,
    ...extra,
  })
}
