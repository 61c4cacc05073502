import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { isBuiltin, type SourceMapPayload } from 'node:module'
import { dirname, extname, isAbsolute, join, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { BuildFailure, BuildResult, Loader, Message, Metafile, OutputFile, Plugin } from 'esbuild'
import { textReadsEnvironment } from './purity.js'
import { linkSpec, readPiece, type Piece } from './split-link.js'
import { RACY_MS, isSettled, sameStamp, statStamp, type Stamp } from '../store/stamp.js'

/*
 * How a spec is bundled, and why:
 * - esbuild bundles the spec with every local module it imports, so one evaluation sees the current
 *   text of all of them (no stale module cache) and the metafile lists the files the spec depends on.
 * - npm packages are not bundled (native addons, __dirname tricks, huge trees): each bare import is
 *   resolved from the importing file's directory at bundle time and left external as an absolute
 *   file URL. That makes the bundle position-independent, so it can be evaluated from the OS temp
 *   dir, never from the project, where it would litter and wake file watchers.
 * - Every local file is read by our own plugin, once per build, and hashed from the very bytes that
 *   went into the bundle: the memo and the build record then describe what was evaluated, never what
 *   a file holds a moment later (a save during an evaluation must not pair old text with new hashes).
 *   Its stamp is taken before the read and kept when the file still has it after: the memo may then
 *   vouch for the file by its stamp, and the plan after a cold one reads nothing again. A split
 *   build (below) lets esbuild read code itself and reads each file after it: the same bytes only
 *   when the file had settled before the build began (`readSettled`), else through the plugin.
 * - `import.meta.url` of a bundled file would name the temp file, so each local file that uses
 *   `import.meta` gets its own path defined in.
 * - Many specs are one build with many entry points: esbuild reads a shared module once for all.
 *   Without a source map the build splits, and prints a shared module once too (split-link.ts).
 */

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

export interface Bundled {
  /** ESM code with an inline source map naming the original files absolutely. */
  code: string
  /** Absolute paths of the local files bundled into the module (the file itself included), sorted. */
  deps: string[]
  /** sha256 of each dep's bytes exactly as the bundle read them. */
  inputs: Record<string, string>
  /** Each dep's stamp when it did not change while the bundle read it (see `inputs`). */
  stamps: Record<string, Stamp>
  /** Some dep reads the environment, the clock or randomness (see purity.ts). */
  impure: boolean
  /** The code imports nothing (no package, no builtin, not even dynamically): it may run as a script. */
  importFree: boolean
  /** The text of each JSON dep, by path: handed to the evaluation beside the code (see `jsonModule`). */
  json: Record<string, string>
  /** Bundled with a source map: the code without it, and the map (sources absolute). */
  mapped?: { body: string; map: SourceMapPayload } | undefined
  /**
   * Linked from a split build's outputs (split-link.ts), not bundled alone: the code is not what a
   * build of this module alone prints, so a source map of one does not describe it.
   */
  linked?: boolean
}

export interface BundleOptions {
  /**
   * Inline a source map, so errors in the module point at its own files. Specs are bundled without
   * one (maps cost esbuild and every evaluation, and most specs never throw); a spec that throws is
   * bundled again with one to say where (see load.ts).
   */
  sourcemap?: boolean
  definePath?: string
}

/** Where an evaluation finds the JSON texts its bundle parses: `globalThis[JSON_REGISTRY][path]`. */
export const JSON_REGISTRY = 'vidspec.json'

/**
 * The module specs get for `@vidspec/core`: `define.js` beside the compiled sources (this file sits in
 * dist/spec/ when compiled file by file, in dist/bundle/ when bundled), or `define.ts` under src/.
 * It must resolve even in a project without node_modules, and brand specs exactly as core does.
 */
export function defineModulePath(): string {
  for (const rel of ['../define.js', '../../define.js', '../define.ts']) {
    const path = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(path)) return path
  }
  throw new Error(`vidspec: define.js not found from ${fileURLToPath(import.meta.url)}`)
}

const CORE = '@vidspec/core'

/**
 * A bare import that is not exactly `@vidspec/core`, as a plugin filter. `@vidspec/core` is left to
 * esbuild's alias (define.js, resolved natively): a plugin would cost a call into this thread per
 * spec, ~0.1 ms each. Spelled without lookahead, which esbuild's (Go) patterns lack: a proper prefix
 * of the name and then any other character or the end, or the whole name and more.
 */
function bareImportBut(name: string): RegExp {
  const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
  const alternatives = [`[^./${escape(name.slice(0, 1))}]`]
  for (let i = 1; i < name.length; i++) alternatives.push(`${escape(name.slice(0, i))}(?:[^${escape(name.slice(i, i + 1))}]|$)`)
  alternatives.push(`${escape(name)}.`)
  return new RegExp(`^(?:${alternatives.join('|')})`)
}

const PACKAGE_IMPORT = bareImportBut(CORE)

const RUNNABLE_EXTERNAL = new Set(['.js', '.mjs', '.cjs'])

/** Leaves npm packages external, as absolute file URLs resolved from the importer's directory. */
function externalPackagesPlugin(): Plugin {
  return {
    name: 'vidspec-external-packages',
    setup(b) {
      b.onResolve({ filter: PACKAGE_IMPORT }, async (args) => {
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

interface Captured {
  sha256: string
  /** The file's stamp, when the read saw it unchanged from before to after. */
  stamp?: Stamp | undefined
  impure: boolean
  /** For a JSON file: its text, which the bundle does not contain. */
  json?: string
}

/** What a local file's bytes tell: their hash, and whether its code reads the environment or the clock. */
function capture(path: string, bytes: Buffer, stamp: Stamp | undefined): Captured & { text: string | undefined } {
  const text = LOADERS[extname(path)] ? bytes.toString('utf8') : undefined
  return { sha256: createHash('sha256').update(bytes).digest('hex'), stamp, impure: text !== undefined && textReadsEnvironment(text), text }
}

/**
 * Reads every local file of the build (or those `filter` matches) itself (see the note at the top):
 * records the hash of the bytes handed to esbuild, and gives each code file that reads `import.meta`
 * its own url/filename/dirname.
 */
function capturePlugin(captured: Map<string, Captured>, filter = /.*/): Plugin {
  return {
    name: 'vidspec-capture',
    setup(b) {
      b.onLoad({ filter, namespace: 'file' }, async (args) => {
        if (inNodeModules(args.path)) return undefined
        // Synchronous: a module of a few KB reads faster than a promise round trip.
        const before = statStamp(args.path)
        const bytes = readFileSync(args.path)
        const loader = LOADERS[extname(args.path)]
        const { text, ...got } = capture(args.path, bytes, sameStamp(before, statStamp(args.path)) ? before : undefined)
        captured.set(args.path, got)
        if (extname(args.path) === '.json') {
          const json = jsonModule(args.path, bytes)
          if (json.text !== undefined) (captured.get(args.path) as Captured).json = json.text
          return { contents: json.contents, loader: json.loader }
        }
        if (!loader || text === undefined) return { contents: bytes, loader: 'default' }
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

const RESERVED = new Set(
  'break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package private protected public await arguments eval'.split(' '),
)

/**
 * A JSON file as a module that parses its text, passed beside the bundle: esbuild's JSON loader
 * writes the data as a JS object literal, and a big one (a 48 MB data file) costs esbuild and V8
 * tens of seconds and a GB to print and parse, where `JSON.parse` of the text takes a fraction of a
 * second. Top-level keys stay importable by name, as with esbuild's loader. Invalid JSON goes to
 * esbuild's loader, for its error message with a line.
 */
function jsonModule(path: string, bytes: Buffer): { contents: string | Buffer; loader: Loader; text?: string } {
  const text = bytes.toString('utf8')
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    return { contents: bytes, loader: 'json' }
  }
  const names =
    typeof data === 'object' && data !== null && !Array.isArray(data)
      ? Object.keys(data).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && !RESERVED.has(k) && k !== '__vidspecJson')
      : []
  const registry = `globalThis[Symbol.for(${JSON.stringify(JSON_REGISTRY)})]`
  const lines = [`const __vidspecJson = JSON.parse(${registry}[${JSON.stringify(path)}])`, 'export default __vidspecJson']
  for (const name of names) lines.push(`export const ${name} = __vidspecJson[${JSON.stringify(name)}]`)
  return { contents: `${lines.join('\n')}\n`, loader: 'js', text }
}

export function inNodeModules(file: string): boolean {
  // Most paths asked about are the project's own: the cheap test first (~3 calls per spec bundled).
  return file.includes('node_modules') && file.split(/[\\/]/).includes('node_modules')
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
function withAbsoluteMap(code: string, mapText: string, mapDir: string): Pick<Bundled, 'code' | 'mapped'> {
  const map = JSON.parse(mapText) as SourceMapPayload
  map.sources = map.sources.map((s) => resolve(mapDir, s))
  const body = code.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n')
  return {
    code: `${body}//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`,
    mapped: { body, map },
  }
}

/** The deepest folder holding every file: esbuild's working dir for a batch. */
function commonDir(files: string[]): string {
  let dir = dirname(files[0] as string)
  while (!files.every((f) => f === dir || f.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`))) {
    const up = dirname(dir)
    if (up === dir) break
    dir = up
  }
  return dir
}

function failure(err: BuildFailure, cwd: string): ModuleLoadError {
  const shown = err.errors.slice(0, 5).map((m) => describeMessage(m, cwd))
  const more = err.errors.length > 5 ? `\n  (${err.errors.length - 5} more)` : ''
  return new ModuleLoadError('bundle', `could not be compiled:\n  ${shown.join('\n  ')}${more}`, err)
}

/** Where a build's outputs would go: never written, but their names and imports are relative to it. */
const OUT_DIR = '.vidspec-bundle'

async function runBuild(files: string[], cwd: string, definePath: string, captured: Map<string, Captured>, sourcemap: boolean, splitting: boolean) {
  const { build } = await esbuild()
  return build({
    splitting,
    chunkNames: 'chunk-[hash]',
    entryPoints: files.map((file, i) => ({ in: file, out: `spec-${i}` })),
    absWorkingDir: cwd,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    // Never written: it only makes esbuild express map sources relative to a known folder.
    outdir: join(cwd, OUT_DIR),
    outExtension: { '.js': '.mjs' },
    sourcemap: sourcemap ? 'external' : false,
    sourcesContent: false,
    logLevel: 'silent',
    alias: { [CORE]: definePath },
    // A split build leaves reading code to esbuild (see `readSettled`); JSON it cannot.
    plugins: [externalPackagesPlugin(), capturePlugin(captured, splitting ? /\.json$/ : /.*/)],
  })
}

/** One build's outputs, looked up by path (a batch's 100 entries each searched the list before). */
class BuildOutputs {
  readonly #result: BuildResult & { metafile: Metafile; outputFiles: OutputFile[] }
  readonly #files: Map<string, OutputFile>
  readonly cwd: string

  constructor(result: BuildResult & { metafile: Metafile; outputFiles: OutputFile[] }, cwd: string) {
    this.#result = result
    this.#files = new Map(result.outputFiles.map((f) => [f.path, f]))
    this.cwd = cwd
  }

  file(path: string): OutputFile | undefined {
    return this.#files.get(path)
  }

  /** An output by its file name (every output is in OUT_DIR itself), without working out a relative path. */
  named(name: string): { file: OutputFile; meta: Metafile['outputs'][string] } | undefined {
    const file = this.#files.get(join(this.cwd, OUT_DIR, name))
    const meta = this.#result.metafile.outputs[`${OUT_DIR}/${name}`]
    return file && meta ? { file, meta } : undefined
  }
}

/** The local files of a build's inputs (as its metafile names them), absolute and sorted. */
function localDeps(inputs: Iterable<string>, cwd: string, definePath: string): string[] {
  return [...new Set([...inputs].map((input) => resolve(cwd, input)).filter((abs) => abs !== definePath && !inNodeModules(abs)))].sort()
}

/** What a spec's code was made from: its local files' hashes and stamps, and what they need. */
function described(deps: string[], captured: Map<string, Captured>): Omit<Bundled, 'code' | 'importFree'> {
  const hashes: Record<string, string> = {}
  const stamps: Record<string, Stamp> = {}
  const json: Record<string, string> = {}
  let impure = false
  for (const dep of deps) {
    const text = captured.get(dep)?.json
    if (text !== undefined) json[dep] = text
    // Every local file passes the capture plugin; the fallback only guards against a loader we skip.
    const got: Captured = captured.get(dep) ?? { sha256: createHash('sha256').update(readFileSync(dep)).digest('hex'), impure: true }
    hashes[dep] = got.sha256
    if (got.stamp) stamps[dep] = got.stamp
    impure ||= got.impure
  }
  return { deps, inputs: hashes, stamps, impure, json }
}

function pick(built: BuildOutputs, index: number, definePath: string, captured: Map<string, Captured>, sourcemap: boolean): Bundled {
  const name = `spec-${index}.mjs`
  const out = built.named(name)
  const map = built.file(join(built.cwd, OUT_DIR, `${name}.map`))
  if (!out || (sourcemap && !map)) throw new Error(`esbuild produced no output for entry ${index}`)
  const code = map ? withAbsoluteMap(out.file.text, map.text, join(built.cwd, OUT_DIR)) : { code: out.file.text }
  return { ...code, ...described(localDeps(Object.keys(out.meta.inputs), built.cwd, definePath), captured), importFree: out.meta.imports.length === 0 }
}

/**
 * A file esbuild read itself in a split build, read again after it: a build's every local file
 * passing through the capture plugin costs this thread a round trip each (~0.2 ms: a request, two
 * stats, a read, a reply written to esbuild), and this thread is what a cold plan waits on. The bytes
 * read now are the ones esbuild read only when nothing wrote to the file since well before the build
 * began (RACY_MS: ctime, which no tool sets back, is older than that after this read); otherwise
 * undefined, and so is a file that reads `import.meta` (the plugin gives it its own path).
 */
function readSettled(path: string, settled: number): Captured | undefined {
  try {
    const bytes = readFileSync(path)
    const stamp = statStamp(path)
    if (!stamp || !isSettled(stamp, settled)) return undefined
    const { text, ...got } = capture(path, bytes, stamp)
    return text?.includes('import.meta') ? undefined : got
  } catch {
    // Gone since the build read it: not what was built.
    return undefined
  }
}

/** A batch's split build, and what linking its specs has learnt so far. */
interface SplitBuild {
  built: BuildOutputs
  definePath: string
  /** Files the capture plugin read (JSON), and those read after the build (`readSettled`). */
  captured: Map<string, Captured>
  /** Files `readSettled` refused. */
  refused: Set<string>
  /**
   * Each output by name, read into parts (split-link.ts) with its local files; null when it imports
   * what a script cannot, and no piece when it is in no shape known.
   */
  outputs: Map<string, { piece: Piece | undefined; deps: string[] } | null>
  /** Files older than this (ms) were read by esbuild as they are now. */
  settled: number
}

/**
 * A spec's output of a split build linked with its chunks into one import-free script, or undefined
 * when it cannot be (split-link.ts): it imports a package, imports dynamically, a chunk it reads
 * may change an export after it ran, or a file of it changed too lately to tell what esbuild read.
 */
function pickLinked(split: SplitBuild, index: number): Bundled | undefined {
  const { built, captured } = split
  const files = new Set<string>()
  const piece = (name: string): Piece | undefined => {
    let known = split.outputs.get(name)
    if (known === undefined) {
      const out = built.named(name)
      known =
        out && !out.meta.imports.some((im) => im.kind !== 'import-statement' || im.external)
          ? { piece: readPiece(out.file.text, split.outputs.size), deps: localDeps(Object.keys(out.meta.inputs), built.cwd, split.definePath) }
          : null
      split.outputs.set(name, known)
    }
    if (!known?.piece) return undefined
    for (const dep of known.deps) files.add(dep)
    return known.piece
  }
  const entry = piece(`spec-${index}.mjs`)
  // Imports name chunks as `./chunk-X.mjs`, beside the spec's own output.
  const code = entry && linkSpec(entry, (from) => piece(from.slice(2)))
  if (code === undefined) return undefined
  const deps = [...files].sort()
  for (const dep of deps) {
    if (captured.has(dep)) continue
    const got = split.refused.has(dep) ? undefined : readSettled(dep, split.settled)
    if (!got) {
      split.refused.add(dep)
      return undefined
    }
    captured.set(dep, got)
  }
  return { code, ...described(deps, captured), importFree: true, linked: true }
}

/**
 * Entry points per esbuild build. A build's time grows faster than its entry points (1,000 spec
 * entries: 2.5-4.3 s in one build, 1.1 s in builds of 100, on 2 cores), and a compile error costs
 * only its own batch the one-by-one retry.
 */
const BUILD_BATCH = 100

/**
 * Bundles many modules in esbuild builds of many entry points each. A compile error fails a whole
 * build, so when a batch fails each of its modules is bundled on its own, to give every broken one its
 * own error and the rest their code. `onBundled` hears of each module as soon as its batch is built,
 * so its evaluation can start while the next batch builds; once `signal` aborts, no batch starts.
 */
export async function bundleModules(
  files: string[],
  opts: BundleOptions & { onBundled?: (file: string, result: Bundled | ModuleLoadError) => void; signal?: AbortSignal | undefined } = {},
): Promise<Map<string, Bundled | ModuleLoadError>> {
  const options = { sourcemap: opts.sourcemap ?? true, definePath: opts.definePath ?? defineModulePath() }
  const out = new Map<string, Bundled | ModuleLoadError>()
  // Split and linked (split-link.ts) while that works: a project whose specs import packages would
  // pay for a split build and then for each spec's own again, so after a batch of which most could
  // not be linked, the rest are bundled alone straight away. Never with a source map: a linked
  // spec's code is not what the map of a bundle of it alone describes.
  let split = !options.sourcemap
  let ahead: { at: number; build: Promise<SplitBuild | undefined> } | undefined
  // One build at a time: esbuild already uses every core for one. But the next split build starts
  // before this thread links the last one's specs: without the capture plugin's calls it needs
  // nothing from this thread, which would otherwise keep esbuild idle while it links.
  for (let i = 0; i < files.length && !opts.signal?.aborted; i += BUILD_BATCH) {
    const batch = files.slice(i, i + BUILD_BATCH)
    let results: Map<string, Bundled | ModuleLoadError>
    if (ahead?.at === i || (split && batch.length > 1)) {
      const building = ahead?.at === i ? ahead.build : buildSplit(batch, options)
      const next = files.slice(i + BUILD_BATCH, i + 2 * BUILD_BATCH)
      ahead = split && next.length > 1 && !opts.signal?.aborted ? { at: i + BUILD_BATCH, build: buildSplit(next, options) } : undefined
      // Left unawaited when an abort ends the loop first: its failure is then nobody's.
      ahead?.build.catch(() => {})
      const built = await building
      results = built ? await linkSplit(batch, built, options) : await bundleBatch(batch, options)
      split = [...results.values()].filter((r) => !(r instanceof ModuleLoadError) && r.linked).length * 2 >= batch.length
    } else {
      results = await bundleBatch(batch, options)
    }
    for (const [file, result] of results) {
      out.set(file, result)
      opts.onBundled?.(file, result)
    }
  }
  return out
}

/** One split build for a batch, or undefined when it failed (the batch is then bundled as before, which tells each spec's error). */
async function buildSplit(files: string[], options: Required<BundleOptions>): Promise<SplitBuild | undefined> {
  const cwd = commonDir(files)
  const captured = new Map<string, Captured>()
  const settled = Date.now() - RACY_MS
  try {
    const built = new BuildOutputs(await runBuild(files, cwd, options.definePath, captured, false, true), cwd)
    return { built, definePath: options.definePath, captured, refused: new Set(), outputs: new Map(), settled }
  } catch (err) {
    if (!isBuildFailure(err)) throw err
    return undefined
  }
}

/** Each spec of a split build linked from it; those that cannot be are bundled as before. */
async function linkSplit(files: string[], split: SplitBuild, options: Required<BundleOptions>): Promise<Map<string, Bundled | ModuleLoadError>> {
  const out = new Map<string, Bundled | ModuleLoadError>()
  const alone: string[] = []
  files.forEach((file, i) => {
    const linked = pickLinked(split, i)
    if (linked) out.set(file, linked)
    else alone.push(file)
  })
  if (alone.length === 0) return out
  const rest = await bundleBatch(alone, options)
  return new Map(files.map((file) => [file, (out.get(file) ?? rest.get(file)) as Bundled | ModuleLoadError]))
}

async function bundleBatch(files: string[], options: Required<BundleOptions>): Promise<Map<string, Bundled | ModuleLoadError>> {
  const out = new Map<string, Bundled | ModuleLoadError>()
  const cwd = commonDir(files)
  const captured = new Map<string, Captured>()
  const { definePath, sourcemap } = options
  try {
    const built = new BuildOutputs(await runBuild(files, cwd, definePath, captured, sourcemap, false), cwd)
    files.forEach((file, i) => out.set(file, pick(built, i, definePath, captured, sourcemap)))
    return out
  } catch (err) {
    if (!isBuildFailure(err)) throw err
    if (files.length === 1) {
      out.set(files[0] as string, failure(err, cwd))
      return out
    }
  }
  const one = await Promise.all(files.map((file) => bundleBatch([file], options)))
  for (const map of one) for (const [file, result] of map) out.set(file, result)
  return out
}

/** Bundles one module (with a source map); throws ModuleLoadError when it cannot be compiled. */
export async function bundleModule(file: string, definePath = defineModulePath()): Promise<Bundled> {
  const result = (await bundleModules([file], { definePath })).get(file)
  if (!result) throw new Error(`vidspec: no bundle for ${file}`)
  if (result instanceof ModuleLoadError) throw result
  return result
}
