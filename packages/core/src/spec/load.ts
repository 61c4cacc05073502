import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { BuildFailure, Loader, Message, Plugin } from 'esbuild'
import pLimit from 'p-limit'
import { VidspecError, showValue } from '../errors.js'
import { hashFile } from '../store/atomic.js'

/*
 * How a spec is evaluated, and why:
 * - esbuild bundles the spec with every local module it imports, so one evaluation sees the current
 *   text of all of them (no stale module cache) and the metafile lists the files the spec depends on.
 * - npm packages are not bundled (native addons, __dirname tricks, huge trees): each bare import is
 *   resolved from the importing file's directory at bundle time and left external as an absolute
 *   file URL. That makes the bundle position-independent, so it can be written to the OS temp dir,
 *   never into the project, where it would litter and wake file watchers.
 * - A data: URL would avoid the temp file, but Node neither source-maps data: modules nor prints them
 *   readably: stack traces would be a wall of base64. A real file path keeps traces on the .ts lines.
 * - `import.meta.url` of a bundled file would name the temp file, so each local file that uses
 *   `import.meta` gets its own path defined in (see `importMetaPlugin`).
 */

export interface LoadedModule {
  /** The default export, or undefined when there is none. */
  value: unknown
  /** Absolute paths of the local files bundled into the module (the file itself included), sorted. */
  deps: string[]
}

/** A module that could not be bundled or threw while evaluating; `detail` is ready for a message. */
export class ModuleLoadError extends Error {
  readonly phase: 'bundle' | 'evaluate'
  readonly detail: string

  constructor(phase: 'bundle' | 'evaluate', detail: string, cause: unknown) {
    super(detail, { cause })
    this.name = 'ModuleLoadError'
    this.phase = phase
    this.detail = detail
  }
}

const VIRTUAL_CORE = 'vidspec-core'

/**
 * `@vidspec/core` must resolve even in a project without node_modules, and must brand specs exactly
 * as core does, so it maps to core's own define module (compiled .js in dist, .ts when run from
 * source by the test runner).
 */
/**
 * The module specs get for `@vidspec/core`: `define.js` beside the compiled sources (this file sits in
 * dist/spec/ when compiled file by file, in dist/bundle/ when bundled), or `define.ts` under src/.
 */
function defineModulePath(): string {
  for (const rel of ['../define.js', '../../define.js', '../define.ts']) {
    const path = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(path)) return path
  }
  throw new Error(`vidspec: define.js not found from ${fileURLToPath(import.meta.url)}`)
}

function corePlugin(definePath: string): Plugin {
  return {
    name: 'vidspec-core',
    setup(b) {
      b.onResolve({ filter: /^@vidspec\/core$/ }, () => ({ path: '@vidspec/core', namespace: VIRTUAL_CORE }))
      b.onLoad({ filter: /.*/, namespace: VIRTUAL_CORE }, () => ({
        contents: `export { defineVideo, defineConfig } from ${JSON.stringify(definePath)}`,
        loader: 'js',
        resolveDir: dirname(definePath),
      }))
    },
  }
}

const RUNNABLE_EXTERNAL = new Set(['.js', '.mjs', '.cjs'])

/** Leaves npm packages external, as absolute file URLs resolved from the importer's directory. */
function externalPackagesPlugin(): Plugin {
  return {
    name: 'vidspec-external-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'vidspec-inner' || isAbsolute(args.path) || isBuiltin(args.path)) return undefined
        const found = await b.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'vidspec-inner',
        })
        if (found.errors.length > 0) return { errors: found.errors }
        if (found.external || found.namespace !== 'file') return found
        // tsconfig path aliases and linked workspace sources resolve outside node_modules: those are
        // the project's own code, so they are bundled (and tracked as deps) like relative imports.
        // JSON and other assets are bundled too, since Node 20 cannot import them without attributes.
        if (!inNodeModules(found.path) || !RUNNABLE_EXTERNAL.has(extname(found.path))) return { path: found.path }
        return { path: pathToFileURL(found.path).href, external: true }
      })
    },
  }
}

const LOADERS: Record<string, Loader> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
}

/** Gives each local file that reads `import.meta` its own url/filename/dirname, not the bundle's. */
function importMetaPlugin(): Plugin {
  return {
    name: 'vidspec-import-meta',
    setup(b) {
      b.onLoad({ filter: /\.[cm]?[jt]sx?$/, namespace: 'file' }, async (args) => {
        const loader = LOADERS[extname(args.path)]
        if (!loader || inNodeModules(args.path)) return undefined
        // Synchronous: a module of a few KB reads faster than a promise round trip, and each spec's
        // bundle reads every module it imports again.
        const text = readFileSync(args.path, 'utf8')
        if (!text.includes('import.meta')) return { contents: text, loader }
        const { transform } = await esbuild()
        const out = await transform(text, {
          loader,
          sourcefile: args.path,
          // esbuild picks up this inline map, so stack traces still point at the original lines.
          sourcemap: 'inline',
          define: {
            'import.meta.url': JSON.stringify(pathToFileURL(args.path).href),
            'import.meta.filename': JSON.stringify(args.path),
            'import.meta.dirname': JSON.stringify(dirname(args.path)),
          },
        })
        return { contents: out.code, loader: 'js' }
      })
    },
  }
}

function inNodeModules(file: string): boolean {
  return file.split(/[\\/]/).includes('node_modules')
}

// Loaded on the first spec that must be evaluated: a plan whose specs all come from the memo never
// pays for importing esbuild or starting its service.
let esbuildModule: Promise<typeof import('esbuild')> | undefined
const esbuild = () => (esbuildModule ??= import('esbuild'))

function isBuildFailure(err: unknown): err is BuildFailure {
  return err instanceof Error && Array.isArray((err as Partial<BuildFailure>).errors)
}

function describeMessage(m: Message, cwd: string): string {
  if (!m.location) return m.text
  const { file, line, column, lineText } = m.location
  return `${resolve(cwd, file)}:${line}:${column + 1}: ${m.text}\n    ${lineText.trim()}`
}

/**
 * The bundle runs from the temp dir, so its map must name sources absolutely. Absolute paths rather
 * than `sourceRoot`: Node and vitest's stack mapper both resolve those, but not both a file: root.
 */
function withAbsoluteMap(code: string, mapText: string, cwd: string): string {
  const map = JSON.parse(mapText) as { sources: string[] }
  map.sources = map.sources.map((s) => resolve(cwd, s))
  const body = code.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n')
  return `${body}//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`
}

async function bundle(file: string, definePath: string): Promise<{ code: string; deps: string[] }> {
  const cwd = dirname(file)
  try {
    const { build } = await esbuild()
    const result = await build({
      entryPoints: [file],
      absWorkingDir: cwd,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      metafile: true,
      // Never written: it only makes esbuild express map sources relative to the spec's folder.
      outfile: join(cwd, `${basename(file)}.vidspec-bundle.mjs`),
      sourcemap: 'external',
      sourcesContent: false,
      logLevel: 'silent',
      plugins: [corePlugin(definePath), externalPackagesPlugin(), importMetaPlugin()],
    })
    const output = result.outputFiles.find((f) => f.path.endsWith('.mjs'))
    const map = result.outputFiles.find((f) => f.path.endsWith('.mjs.map'))
    if (!output || !map) throw new Error('esbuild produced no output')
    const deps = Object.keys(result.metafile.inputs)
      .filter((input) => !input.startsWith(`${VIRTUAL_CORE}:`))
      .map((input) => resolve(cwd, input))
      .filter((abs) => abs !== definePath && !inNodeModules(abs))
    return { code: withAbsoluteMap(output.text, map.text, cwd), deps: [...new Set(deps)].sort() }
  } catch (err) {
    if (!isBuildFailure(err)) throw err
    const shown = err.errors.slice(0, 5).map((m) => describeMessage(m, cwd))
    const more = err.errors.length > 5 ? `\n  (${err.errors.length - 5} more)` : ''
    throw new ModuleLoadError('bundle', `could not be compiled:\n  ${shown.join('\n  ')}${more}`, err)
  }
}

/** The first stack frame in one of the module's own files, e.g. `/p/hero.video.ts:4:9`. */
function ownFrame(err: unknown, deps: string[]): string | undefined {
  if (!(err instanceof Error) || typeof err.stack !== 'string') return undefined
  const files = new Set(deps)
  for (const line of err.stack.split('\n')) {
    const m = /\(?((?:file:\/\/)?[^\s()]+):(\d+):(\d+)\)?\s*$/.exec(line.trim())
    if (!m?.[1]) continue
    const path = m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1]
    if (files.has(path)) return `${path}:${m[2]}:${m[3]}`
  }
  return undefined
}

let sourceMapsOn = false

/**
 * Bundles are written to one temp folder shared by the loads in progress, created by the first and
 * removed by the last: a folder per load cost more than evaluating a spec (mkdtemp + rm, ~0.6 ms).
 * Each bundle still gets a name never used before in this process, so Node evaluates it again
 * instead of answering from its module cache. Synchronous calls: a bundle is a few KB.
 */
let bundleDir: { path: string; users: number } | undefined
let bundleCount = 0

function enterBundleDir(): string {
  bundleDir ??= { path: mkdtempSync(join(tmpdir(), 'vidspec-load-')), users: 0 }
  bundleDir.users++
  return bundleDir.path
}

function leaveBundleDir(): void {
  if (!bundleDir || --bundleDir.users > 0) return
  rmSync(bundleDir.path, { recursive: true, force: true })
  bundleDir = undefined
}

async function evaluate(file: string, code: string, deps: string[]): Promise<Record<string, unknown>> {
  if (!sourceMapsOn) {
    // Without this Node ignores the inline map and errors in a spec point into the temp bundle.
    process.setSourceMapsEnabled(true)
    sourceMapsOn = true
  }
  const bundled = join(enterBundleDir(), `${++bundleCount}-${basename(file)}.mjs`)
  try {
    writeFileSync(bundled, code)
    // Node keeps the parsed source map after the file is gone.
    return (await import(pathToFileURL(bundled).href)) as Record<string, unknown>
  } catch (err) {
    const message = err instanceof Error ? err.message : showValue(err)
    const at = ownFrame(err, deps)
    throw new ModuleLoadError('evaluate', `threw while evaluating: ${message}${at ? ` (at ${at})` : ''}`, err)
  } finally {
    try {
      rmSync(bundled, { force: true })
    } finally {
      leaveBundleDir()
    }
  }
}

/**
 * Evaluates a TS/JS module (a spec or a config) in this process and returns its default export and
 * the local files it was built from. Throws `ModuleLoadError` when it cannot be compiled or throws.
 */
export async function loadModuleFile(file: string): Promise<LoadedModule> {
  const abs = resolve(file)
  const { code, deps } = await bundle(abs, defineModulePath())
  const mod = await evaluate(abs, code, deps)
  return { value: mod.default, deps }
}

const SPEC_HINT = "export default defineVideo({ model: '...', prompt: '...' }) (import { defineVideo } from '@vidspec/core')"

function describeExport(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'function') return 'a function'
  return `a ${typeof value} (${showValue(value)})`
}

/** Loads a `*.video.ts` spec: its raw default export (validated elsewhere) and its dependency files. */
export async function loadSpecFile(file: string): Promise<{ raw: unknown; deps: string[] }> {
  let loaded: LoadedModule
  try {
    loaded = await loadModuleFile(file)
  } catch (err) {
    const detail = err instanceof ModuleLoadError ? err.detail : `could not be loaded: ${err instanceof Error ? err.message : showValue(err)}`
    throw new VidspecError('SPEC_LOAD_FAILED', `${file}: ${detail}`, { file, cause: err })
  }
  const { value, deps } = loaded
  if (value === undefined) {
    throw new VidspecError('SPEC_LOAD_FAILED', `${file}: has no default export; a spec must ${SPEC_HINT}`, { file })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VidspecError(
      'SPEC_LOAD_FAILED',
      `${file}: its default export is ${describeExport(value)}, not a spec object; a spec must ${SPEC_HINT}`,
      { file },
    )
  }
  return { raw: value, deps }
}

const HASH_CONCURRENCY = 4
/** Synchronous work between two yields to the event loop (a dev server must stay responsive). */
const SYNC_BATCH = 256

/**
 * sha256 (hex) of each file's bytes, keyed by the path as given. Specs, modules and images are read
 * synchronously, in batches: for files of a few KB the promise API's round trips cost several times
 * the read itself, and a no-op plan hashes every spec. Big files (reference videos) are streamed.
 */
export async function hashFiles(files: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const big: string[] = []
  for (let i = 0; i < files.length; i++) {
    const file = files[i] as string
    if (statSync(file).size <= SMALL_FILE_BYTES) out[file] = createHash('sha256').update(readFileSync(file)).digest('hex')
    else big.push(file)
    if (i % SYNC_BATCH === SYNC_BATCH - 1) await new Promise((r) => setImmediate(r))
  }
  const limit = pLimit(HASH_CONCURRENCY)
  await Promise.all(big.map((file) => limit(async () => (out[file] = (await hashFile(file)).digest))))
  return out
}

const SMALL_FILE_BYTES = 4 * 1024 * 1024
