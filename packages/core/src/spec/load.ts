import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import pLimit from 'p-limit'
import { SPEC_BRAND } from '../define.js'
import { VidspecError, showValue } from '../errors.js'
import { hashFile } from '../store/atomic.js'
import type { Stamp } from '../store/stamp.js'
import { defaultExportProblem } from './default-export.js'
import { JSON_REGISTRY, ModuleLoadError, bundleModule, bundleModules, type Bundled } from './bundle.js'
import { mapBundleFrames } from './bundle-stack.js'
import { EvaluatorPool, type EvaluationFailure, type EvaluationOutcome } from './evaluate/pool.js'

export { ModuleLoadError } from './bundle.js'

/*
 * Two ways to evaluate a module, for two kinds of module:
 * - specs (`*.video.ts`) run in worker threads (evaluate/pool.ts) with a timeout, many per batch:
 *   there are many of them, they are edited all day under a dev server, and a broken one must never
 *   stop or bloat the process;
 * - the config runs here, in-process: there is one, it is loaded once per run, and what it exports
 *   (functions in a Vite plugin's options, say) need not survive a structured clone.
 * Both are bundled by esbuild (bundle.ts), which also records the exact bytes each module was built from.
 */

export interface LoadedModule {
  /** The default export, or undefined when there is none. */
  value: unknown
  /** Absolute paths of the local files bundled into the module (the file itself included), sorted. */
  deps: string[]
}

/** What evaluating a spec gave, with what it was made of. */
export interface EvaluatedSpec {
  raw: unknown
  deps: string[]
  /** sha256 of each dep exactly as this evaluation read it: what a memo may record. */
  inputs: Record<string, string>
  /** Each dep's stamp when the read saw it unchanged: the memo may vouch for the file by it. */
  stamps?: Record<string, Stamp> | undefined
  /** Some dep reads the environment, the clock or randomness: never memoized. */
  impure: boolean
}

export interface EvaluateOptions {
  /** Per spec, for the evaluation alone (bundling excluded). @default 5000 */
  timeoutMs?: number | undefined
  /** Aborting stops the workers at once and rejects with the signal's reason. */
  signal?: AbortSignal | undefined
}

/** The default of `specTimeoutMs`. */
export const DEFAULT_SPEC_TIMEOUT_MS = 5000

/** The first stack frame in one of the module's own files, e.g. `/p/hero.video.ts:4:9`. */
function ownFrame(stack: string | undefined, deps: string[]): string | undefined {
  if (typeof stack !== 'string') return undefined
  const files = new Set(deps)
  for (const line of stack.split('\n')) {
    const m = /\(?((?:file:\/\/)?[^\s()]+):(\d+):(\d+)\)?\s*$/.exec(line.trim())
    if (!m?.[1]) continue
    const path = m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1]
    if (files.has(path)) return `${path}:${m[2]}:${m[3]}`
  }
  return undefined
}

let sourceMapsOn = false

/**
 * In-process bundles are written to one temp folder shared by the loads in progress, created by the
 * first and removed by the last. Each bundle gets a name never used before in this process, so Node
 * evaluates it again instead of answering from its module cache.
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

const jsonRegistry = globalThis as unknown as Record<symbol, Record<string, string> | undefined>

async function evaluateHere(file: string, { code, deps, json }: Bundled): Promise<Record<string, unknown>> {
  if (!sourceMapsOn) {
    // Without this Node ignores the inline map and errors in a module point into the temp bundle.
    process.setSourceMapsEnabled(true)
    sourceMapsOn = true
  }
  const bundled = join(enterBundleDir(), `${++bundleCount}-${basename(file)}.mjs`)
  try {
    writeFileSync(bundled, code)
    // The JSON texts the bundle parses (bundle.ts); loads of one process may overlap, so merged.
    const registry = (jsonRegistry[Symbol.for(JSON_REGISTRY)] ??= {})
    Object.assign(registry, json)
    // Node keeps the parsed source map after the file is gone.
    return (await import(pathToFileURL(bundled).href)) as Record<string, unknown>
  } catch (err) {
    const message = err instanceof Error ? err.message : showValue(err)
    const at = ownFrame(err instanceof Error ? err.stack : undefined, deps)
    throw new ModuleLoadError('evaluate', `threw while evaluating: ${message}${at ? ` (at ${at})` : ''}`, err)
  } finally {
    const registry = jsonRegistry[Symbol.for(JSON_REGISTRY)]
    for (const path of Object.keys(json)) if (registry) delete registry[path]
    try {
      rmSync(bundled, { force: true })
    } finally {
      leaveBundleDir()
    }
  }
}

/**
 * Evaluates a TS/JS module (the config) in this process and returns its default export and the local
 * files it was built from. Throws `ModuleLoadError` when it cannot be compiled or throws.
 */
export async function loadModuleFile(file: string): Promise<LoadedModule> {
  const abs = resolve(file)
  const bundled = await bundleModule(abs)
  const mod = await evaluateHere(abs, bundled)
  return { value: mod.default, deps: bundled.deps }
}

let sharedPool: EvaluatorPool | undefined
/** The process's one pool: every project (dev server, watch, build) shares its few workers. */
export function evaluatorPool(): EvaluatorPool {
  return (sharedPool ??= new EvaluatorPool())
}

const SPEC_HINT = "export default defineVideo({ model: '...', prompt: '...' }) (import { defineVideo } from '@vidspec/core')"

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`
}

function failureDetail(f: EvaluationFailure, deps: string[], timeoutMs: number): string {
  const at = ownFrame(f.stack, deps)
  const where = at ? ` (at ${at})` : ''
  const limit = `the limit is specTimeoutMs in vidspec.config (${seconds(timeoutMs)})`
  switch (f.reason) {
    case 'threw':
      return `threw while evaluating: ${f.message}${where}`
    case 'threw-later':
      return `threw after evaluating (an unhandled rejection or a throwing timer): ${f.message}${where}`
    case 'never-settled':
      // Told at once, without waiting out the limit: nothing is left that could ever settle it.
      return `never finished evaluating: its top-level code awaits a promise that can never settle (nothing is left to settle it, so it would outlast any limit; ${limit})`
    case 'timeout':
      return `did not finish evaluating within ${seconds(timeoutMs)} (an endless loop, or work that never ends); ${limit}`
    case 'kept-alive':
      return `kept running for more than ${seconds(timeoutMs)} after evaluating (a timer, interval or open handle it never closes; a spec must finish on its own); ${limit}`
    case 'exited':
      return `stopped the evaluation by calling process.exit (${f.message})`
    case 'crashed':
      return `could not be evaluated: ${f.message}`
  }
}

function specError(file: string, detail: string, cause?: unknown): VidspecError {
  return new VidspecError('SPEC_LOAD_FAILED', `${file}: ${detail}`, { file, ...(cause === undefined ? {} : { cause }) })
}

function remoteError(f: EvaluationFailure): Error {
  const err = new Error(f.message)
  if (f.stack) err.stack = f.stack
  return err
}

/**
 * A failure's stack with the frames in the spec's own files, where the stack has any: specs are
 * evaluated without a source map, so the one that failed is bundled again with one, and its frames
 * are mapped when that bundle is the very code that ran (else they stay as they are).
 */
async function located(file: string, ran: Bundled, failure: EvaluationFailure): Promise<EvaluationFailure> {
  const { stack, bundleUrl } = failure
  if (!stack || !bundleUrl || !stack.includes(bundleUrl)) return failure
  try {
    const again = (await bundleModules([file], { sourcemap: true })).get(file)
    if (!again || again instanceof ModuleLoadError || again.mapped?.body !== ran.code) return failure
    return { ...failure, stack: mapBundleFrames(stack, bundleUrl, again.mapped.map) }
  } catch {
    return failure
  }
}

function toSpec(file: string, bundled: Bundled, outcome: EvaluationOutcome, timeoutMs: number): EvaluatedSpec {
  if (outcome.error) {
    const detail = failureDetail(outcome.error, bundled.deps, timeoutMs)
    throw specError(file, detail, new ModuleLoadError('evaluate', detail, remoteError(outcome.error)))
  }
  const { value } = outcome
  const problem = defaultExportProblem(outcome, 'a spec object', `a spec must ${SPEC_HINT}`)
  if (problem) throw specError(file, problem)
  // The brand is a symbol, which a structured clone drops: put it back.
  if (outcome.branded) Object.defineProperty(value, SPEC_BRAND, { value: true, enumerable: false })
  return { raw: value, deps: bundled.deps, inputs: bundled.inputs, stamps: bundled.stamps, impure: bundled.impure }
}

type Evaluation = Promise<EvaluatedSpec | VidspecError>

/**
 * Evaluates many specs in isolation: esbuild builds of many entry points each, and each bundle in a
 * worker with a timeout as soon as its build is done, while the next one builds. Each file maps to
 * its result or its SPEC_LOAD_FAILED error; one broken spec never fails the others. When `signal`
 * aborts, the workers stop at once and the specs not done are ABORTED.
 *
 * All at once, not each as it comes: validating specs on this thread while esbuild builds the next
 * batch took longer, first because it delayed esbuild's calls into the capture plugin here, and
 * still with split builds, which make none (a cold plan of 1,000 specs: 1,238 against 1,180 ms).
 * This thread links every batch and hands each spec to a worker: it is what a cold plan waits on,
 * and work put in its gaps delays the last evaluation by as much (measured again with TurboFan off,
 * benchmarks/README.md, nineteenth session: 1,120 against 1,135 ms).
 */
export async function loadSpecFiles(files: string[], opts: EvaluateOptions = {}): Promise<Map<string, EvaluatedSpec | VidspecError>> {
  const started = evaluateSpecFiles(files, opts)
  const results = await Promise.all(started.values())
  return new Map([...started.keys()].map((file, i) => [file, results[i] as EvaluatedSpec | VidspecError]))
}

/** Each file's evaluation, started as soon as its batch is bundled; rejects only on what is no spec's fault. */
function evaluateSpecFiles(files: string[], opts: EvaluateOptions): Map<string, Evaluation> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_SPEC_TIMEOUT_MS
  const aborted = (file: string) => {
    const reason: unknown = opts.signal?.reason
    const why = reason instanceof Error ? reason.message : 'aborted'
    return new VidspecError('ABORTED', `${file}: not evaluated (${why})`, { file, cause: reason })
  }
  // By absolute path: the files given may name one spec twice, or relatively.
  const waiting = new Map<string, Array<{ file: string; settle: (result: Evaluation) => void }>>()
  const out = new Map<string, Evaluation>()
  for (const file of files) {
    if (out.has(file)) continue
    const abs = resolve(file)
    const same = waiting.get(abs) ?? []
    waiting.set(abs, same)
    out.set(file, new Promise((settle) => same.push({ file, settle })))
  }
  const settleAll = (abs: string, result: (file: string) => Evaluation) => {
    for (const { file, settle } of waiting.get(abs) ?? []) settle(result(file))
    waiting.delete(abs)
  }
  const settleRest = (result: (file: string) => Evaluation) => {
    for (const abs of [...waiting.keys()]) settleAll(abs, result)
  }
  if (opts.signal?.aborted) {
    settleRest(async (file) => aborted(file))
    return out
  }
  const evaluate = async (file: string, abs: string, bundled: Bundled | ModuleLoadError): Evaluation => {
    if (bundled instanceof ModuleLoadError) return specError(file, bundled.detail, bundled)
    let outcome: EvaluationOutcome
    try {
      outcome = await evaluatorPool().evaluate(bundled.code, basename(file), { timeoutMs, signal: opts.signal, json: bundled.json, importFree: bundled.importFree })
    } catch (err) {
      // The pool rejects only on abort: the spec was stopped, not wrong.
      if (opts.signal?.aborted) return aborted(file)
      throw err
    }
    // A linked spec that threw runs again as its own bundle, whose frames a source map can place.
    if (bundled.linked && (outcome.error?.reason === 'threw' || outcome.error?.reason === 'threw-later')) {
      const alone = (await bundleModules([abs], { sourcemap: false, signal: opts.signal })).get(abs)
      if (alone) return evaluate(file, abs, alone)
    }
    if (outcome.error) outcome.error = await located(abs, bundled, outcome.error)
    try {
      return toSpec(file, bundled, outcome, timeoutMs)
    } catch (err) {
      return err as VidspecError
    }
  }
  bundleModules([...waiting.keys()], {
    sourcemap: false,
    signal: opts.signal,
    onBundled: (abs, bundled) => settleAll(abs, (file) => evaluate(file, abs, bundled)),
  }).then(
    // Not bundled: aborted before its batch started.
    () => settleRest(async (file) => aborted(file)),
    (err: unknown) => {
      const detail = `could not be loaded: ${err instanceof Error ? err.message : showValue(err)}`
      settleRest(async (file) => specError(file, detail, err))
    },
  )
  return out
}

/** Loads one `*.video.ts` spec in isolation: its raw default export (validated elsewhere) and its deps. */
export async function loadSpecFile(file: string, opts: EvaluateOptions = {}): Promise<EvaluatedSpec> {
  const result = (await loadSpecFiles([file], opts)).get(file)
  if (!result) throw specError(file, 'gave no result')
  if (result instanceof VidspecError) throw result
  return result
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

/** `hashFiles`, where a file that cannot be read (deleted meanwhile) has no hash instead of failing the rest. */
export async function hashReadable(files: string[]): Promise<Record<string, string>> {
  try {
    return await hashFiles(files)
  } catch {
    const out: Record<string, string> = {}
    await Promise.all(
      files.map(async (f) => {
        const h = await hashFiles([f]).catch(() => ({}) as Record<string, string>)
        if (h[f]) out[f] = h[f]
      }),
    )
    return out
  }
}

const SMALL_FILE_BYTES = 4 * 1024 * 1024
