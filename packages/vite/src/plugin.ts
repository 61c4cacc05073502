import { isAbsolute, join, resolve } from 'node:path'
import { SPEC_EXTENSIONS, SPEC_FILE_RE, Vidspec, VidspecError, directiveQuery, parseRenditionQuery, reloadProject, type LoadedSpec } from '@vidspec/core'
import type { Plugin, ResolvedConfig, Rolldown, ViteDevServer } from 'vite'
import { BuildSession } from './build.js'
import { DevSession } from './dev.js'
import { HMR_RUNTIME_ID, HMR_RUNTIME_SOURCE, RESOLVED_HMR_RUNTIME_ID } from './hmr-runtime.js'
import { openOptions, type VidspecPluginOptions } from './options.js'
import { Posters } from './posters.js'
import { Reporter } from './reporter.js'
import { untestedViteWarning, viteMajor } from './vite-version.js'

/**
 * What a page imports: `./hero.video` (a `.ts` spec) or the spec file itself, `./hero.video.ts`,
 * either with rendition directives (`./hero.video?w=640;1280&format=webm;mp4`).
 */
const SPEC_IMPORT_RE = new RegExp(`\\.video(?:\\.(?:${SPEC_EXTENSIONS.join('|')}))?(?:\\?[^#]*)?$`)
/** A resolved spec module: the spec file, with the import's directives kept as its query. */
const SPEC_ID_RE = new RegExp(`\\.video\\.(?:${SPEC_EXTENSIONS.join('|')})(?:\\?[^#]*)?$`)
const HMR_RUNTIME_RE = /^virtual:vidspec\/hmr$/
const RESOLVED_HMR_RUNTIME_RE = /^\0vidspec:hmr$/
/** Resolved during Vite's dependency scan: external, so the scan never crawls a spec into core. */
const SCAN_PREFIX = '\0vidspec-scan:'

/** The default of `settleMs`: a save or two while typing costs nothing, a pause starts the job. */
const DEV_SETTLE_MS = 300

const cleanUrl = (id: string) => id.replace(/[?#].*$/, '')
const escapeGlob = (path: string) => path.replace(/\\/g, '/').replace(/[()[\]{}*?!+@]/g, '\\$&')

/**
 * What `vidspec()` returns, typed by its shape rather than as the `Plugin` of the Vite this package
 * was built against: a site on Vite 6 or 7, or a framework that brings its own Vite (Astro, Nuxt),
 * puts it in `plugins` without a type error between two copies of Vite's types.
 */
export interface VidspecVitePlugin {
  name: string
  enforce?: 'pre' | 'post'
}

/**
 * The vidspec Vite plugin: `import hero from './hero.video'` gives the page a `VideoAsset`. In dev
 * the import never waits for a generation and the clip arrives by HMR; `vite build` generates what
 * is missing and emits clips and posters as hashed assets. The spec itself never reaches the
 * browser: the plugin claims `.video.ts` modules before Vite's TypeScript transform sees them.
 */
export function vidspec(options: VidspecPluginOptions = {}): VidspecVitePlugin {
  const { settleMs = DEV_SETTLE_MS, ...projectOptions } = options
  const reporter = new Reporter()
  let project: Vidspec | undefined
  let config: ResolvedConfig | undefined
  let posters: Posters | undefined
  let reopen: (() => Promise<Vidspec>) | undefined
  const devSessions: DevSession[] = []
  const builds = new Map<string, BuildSession>()

  const ready = () => {
    if (!project || !config || !posters) throw new Error('vidspec: the plugin was used before Vite resolved its config')
    return { project, config, posters }
  }

  async function loadSpec(ctx: Rolldown.PluginContext, file: string): Promise<LoadedSpec> {
    try {
      const spec = await ready().project.loadMemoized(file)
      // The spec's own imports and local media re-key it. In dev the session's input index maps an
      // edit to the specs it feeds (hotUpdate); a build in watch mode goes by Rollup's watch files.
      if (ready().config.command === 'build') for (const input of spec.inputs) if (input !== file) ctx.addWatchFile(input)
      return spec
    } catch (err) {
      if (err instanceof VidspecError) ctx.error(err.message)
      throw err
    }
  }

  async function reloadConfig(server: ViteDevServer, session: DevSession): Promise<void> {
    if (!reopen) return
    const { project: next, message } = await reloadProject(ready().project, reopen)
    if (!next) {
      reporter.error(message)
      server.environments.client.hot.send({ type: 'error', err: { message: `vidspec: ${message}`, stack: '', plugin: 'vidspec' } })
      return
    }
    project = next
    reporter.verbose = next.config.flags.debug
    server.watcher.add(next.configDeps)
    session.swap(next)
    reporter.info(message)
    for (const file of session.files) {
      for (const env of Object.values(server.environments)) {
        for (const mod of env.moduleGraph.getModulesByFile(file) ?? []) void env.reloadModule(mod)
      }
    }
  }

  const plugin: Plugin = {
    name: 'vidspec',
    enforce: 'pre',

    async config(user) {
      const viteRoot = resolve(user.root ?? process.cwd())
      reopen = () => Vidspec.open({ ...openOptions(projectOptions, viteRoot), logger: reporter })
      project = await reopen()
      reporter.verbose = project.config.flags.debug
      // The store changes all the time during dev and is never a source file.
      return { server: { watch: { ignored: [`${escapeGlob(project.config.cacheDir)}/**`] } } }
    },

    configResolved(resolved) {
      config = resolved
      const warning = untestedViteWarning(viteMajor(this?.meta, resolved))
      if (warning) resolved.logger.warn(`[vidspec] ${warning}`)
      posters = new Posters(join(resolved.cacheDir, 'vidspec', 'posters'), (video, out) => ready().project.extractPoster(video, out))
      reporter.attach(resolved.logger, { timestamps: resolved.command === 'serve' })
    },

    configureServer(server) {
      const { project: p, posters: pst } = ready()
      const session = new DevSession(server, p, reporter, pst, { settleMs })
      devSessions.push(session)
      // A changed vidspec.config.ts can change every key: the project reloads in place (jobs in
      // flight are kept: a paid one is finished and stored), and every spec served is loaded again.
      if (p.configDeps.length > 0) server.watcher.add(p.configDeps)
      server.watcher.on('change', (file) => {
        if (ready().project.configDeps.includes(resolve(file))) void reloadConfig(server, session)
      })
    },

    buildStart() {
      if (config?.command === 'build') {
        const { project: p, posters: pst } = ready()
        builds.set(this.environment.name, new BuildSession(p, reporter, pst))
      }
    },

    resolveId: {
      filter: { id: [SPEC_IMPORT_RE, HMR_RUNTIME_RE] },
      async handler(source, importer, opts) {
        if (source === HMR_RUNTIME_ID) return RESOLVED_HMR_RUNTIME_ID
        // Vite 6 before 6.3 ignores `filter`: the handler must not trust it.
        if (!SPEC_IMPORT_RE.test(source)) return null
        if (source.startsWith('\0')) return null
        const bare = cleanUrl(source)
        const query = directiveQuery(source)
        const target = SPEC_FILE_RE.test(bare) ? bare : `${bare}.ts`
        const resolved = await this.resolve(target, importer, { ...opts, skipSelf: true })
        if (!resolved || resolved.external) return null
        const file = cleanUrl(resolved.id)
        if (!SPEC_FILE_RE.test(file) || !isAbsolute(file)) return null
        if ((opts as { scan?: boolean }).scan) return { id: `${SCAN_PREFIX}${file}`, external: true }
        // Directives are checked here, so a bad one is an error at the import that wrote it.
        if (query) {
          try {
            parseRenditionQuery(query, importer ?? file)
          } catch (err) {
            if (err instanceof VidspecError) this.error(err.message)
            throw err
          }
        }
        return `${file}${query}`
      },
    },

    load: {
      filter: { id: [SPEC_ID_RE, RESOLVED_HMR_RUNTIME_RE] },
      async handler(fullId) {
        if (fullId === RESOLVED_HMR_RUNTIME_ID) return { code: HMR_RUNTIME_SOURCE, moduleType: 'js' }
        const id = cleanUrl(fullId)
        if (!SPEC_FILE_RE.test(id) || !isAbsolute(id)) return null
        const query = directiveQuery(fullId)
        const spec = await loadSpec(this, id)
        if (ready().config.command === 'build') {
          const session = builds.get(this.environment.name)
          if (!session) throw new Error(`vidspec: no build in progress for environment ${this.environment.name}`)
          return { code: await session.load(this, spec, query), moduleType: 'js' }
        }
        const session = devSessions.at(-1)
        if (!session) throw new Error('vidspec: a spec was loaded in dev before the dev server was configured')
        const code = await session.load(id, spec, query)
        // Files outside the root (shared media folders) are watched only when asked.
        session.server.watcher.add(session.inputsOf(id).filter((input) => input !== id))
        return { code, moduleType: 'js' }
      },
    },

    hotUpdate(update) {
      // Every session: the server in `update` is a proxy of the one a session holds, never equal to it.
      if (update.type === 'delete' && SPEC_FILE_RE.test(update.file)) for (const session of devSessions) session.forget(update.file)
      // Called once per environment; a session reloads a spec in every environment at once.
      if (this.environment.name !== 'client') return
      for (const session of devSessions) session.changed(resolve(update.file))
    },

    buildEnd(error) {
      if (config?.command !== 'build' || error) return
      const session = builds.get(this.environment.name)
      if (!session) return
      const { error: message, warning, info } = session.verdict()
      if (message) this.error(message)
      if (warning) config.logger.warn(`[vidspec] ${warning}`)
      if (info) config.logger.info(`[vidspec] ${info}`)
    },

    async closeBundle() {
      if (config?.command !== 'serve') return
      // Called once per environment when a dev server closes: stop that server's jobs.
      for (const session of [...devSessions]) {
        if (Object.values(session.server.environments).some((env) => env === this.environment)) {
          devSessions.splice(devSessions.indexOf(session), 1)
          await session.close()
        }
      }
    },
  }
  return plugin
}
