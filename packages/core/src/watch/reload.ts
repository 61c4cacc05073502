import type { Vidspec } from '../project.js'

export type ConfigReload = { project: Vidspec; message: string } | { project?: undefined; message: string }

/**
 * Opens the project again after its config changed, for `vidspec watch` and the dev server alike:
 * the new project with its store ready, or, when the config does not load, no project and a message
 * saying the previous one is kept (as c12 does: fix it and save again). Jobs in flight are not this
 * function's business: each keeps the project that started it.
 */
export async function reloadProject(current: Vidspec, reopen: () => Promise<Vidspec>): Promise<ConfigReload> {
  const name = configName(current)
  let next: Vidspec
  try {
    next = await reopen()
    await next.ensureStore()
  } catch (err) {
    return { message: `${name} changed but could not be loaded (keeping the previous config): ${(err as Error).message}` }
  }
  return { project: next, message: `${name} changed: reloaded (provider ${next.provider.id})` }
}

/** The config file as messages name it: project-relative (`vidspec.config.ts`). */
export function configName(project: Vidspec): string {
  return project.specId(project.configDeps[0] ?? 'vidspec.config')
}
