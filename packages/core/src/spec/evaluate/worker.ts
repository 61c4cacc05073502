/*
 * The worker thread that evaluates spec bundles for the pool (pool.ts). Kept free of imports beyond
 * Node's own (and export-kind.ts, which has none), so it stays small wherever core is installed.
 *
 * One job at a time: the pool sends a bundle's code and a path for it, this writes and imports it and
 * answers with the default export, then says `drained` once the job has left nothing behind. The pool
 * may send the next job before that: it waits here and starts the moment the last one drained, so the
 * worker never idles while the pool's thread is busy. A job that failed in any way starts nothing
 * after it (the pool retires this worker and hands the waiting job to another).
 *
 * "Nothing behind" is Node's own notion: while a job runs the port to the pool is unref'd, so when the
 * spec's last timer, socket or promise callback is gone the loop empties and `beforeExit` fires. A
 * spec that keeps the loop alive (an interval, an open server) never drains and is stopped by the
 * pool's timeout; a top-level await that can never settle drains with no answer, which is how it is
 * told apart from a slow one.
 */
import { unlinkSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { compileFunction } from 'node:vm'
import { parentPort, workerData } from 'node:worker_threads'
import { getHeapStatistics } from 'node:v8'
import { exportKind } from '../export-kind.js'

export interface EvaluateRequest {
  id: number
  /**
   * The bundle's code. Imported as a module, it is written to `path` (a name of its own in the OS
   * temp folder) and removed once imported.
   */
  code: string
  path: string
  /** The bundle imports nothing (bundle.ts, `importFree`): it may run as a script (see `asScript`). */
  importFree: boolean
  /** JSON texts the bundle parses, by path (see bundle.ts, `jsonModule`). */
  json: Record<string, string>
}

/** How a bundle ran: as a script in this thread's context, or imported from its file as a module. */
export type EvaluationForm = 'script' | 'module'

export type EvaluateReply =
  | { id: number; type: 'value'; value: unknown; hasDefault: boolean; branded: boolean; kind: string; form: EvaluationForm }
  | { id: number; type: 'error'; message: string; stack?: string | undefined; late: boolean; form: EvaluationForm }
  | { id: number; type: 'drained'; heapBytes: number }

const port = parentPort
if (!port) throw new Error('vidspec: the evaluator worker must run in a worker thread')
/** The pool retires this worker once its heap is over this after a job: then nothing more starts here. */
const maxHeapBytes = (workerData as { maxHeapBytes?: number } | undefined)?.maxHeapBytes ?? Infinity
const SPEC_BRAND = Symbol.for('vidspec.spec')
const JSON_REGISTRY = Symbol.for('vidspec.json')
const registry = globalThis as unknown as Record<symbol, Record<string, string> | undefined>

// Bundles come without source maps: the loader maps a failed spec's stack itself (load.ts, `located`).
let current: number | undefined
/** How the current job's code runs. */
let form: EvaluationForm = 'module'
let answered = false
/** A job here failed, never answered or left a big heap: nothing more starts here. */
let failed = false
const waiting: EvaluateRequest[] = []

function send(reply: EvaluateReply): void {
  port?.postMessage(reply)
}

function errorReply(id: number, err: unknown, late: boolean): EvaluateReply {
  const e = err instanceof Error ? err : undefined
  return { id, type: 'error', message: e ? e.message : String(err), stack: e?.stack, late, form }
}

/** A rejection nobody handles, or a throw from a timer: that spec's error, never the pool's. */
function onLate(err: unknown): void {
  if (current === undefined) return
  failed = true
  send(errorReply(current, err, answered))
}
process.on('unhandledRejection', onLate)
process.on('uncaughtException', onLate)

process.on('beforeExit', () => {
  if (current === undefined) return
  const id = current
  current = undefined
  const heapBytes = getHeapStatistics().used_heap_size
  send({ id, type: 'drained', heapBytes })
  // The pool retires a worker after a failure, a job that never answered or a big heap, and gives the
  // waiting jobs to another: none of them may start here.
  failed ||= !answered || heapBytes > maxHeapBytes
  const next = failed ? undefined : waiting.shift()
  // Started from an immediate, not from here: Node checks once, after this event, whether anything
  // keeps the loop alive, and an import that reads its file synchronously (Node 22 on) leaves nothing
  // for it to see, so the worker would exit under the job.
  if (next) run(next, true)
  // Keeps the worker for the next job: a ref'd port with a listener keeps the loop alive.
  else port.ref()
})

port.on('message', (job: EvaluateRequest) => {
  if (current === undefined && !failed) run(job)
  else waiting.push(job)
})

/** Makes `job` the current one at once; its module is loaded now or, when `later`, from an immediate. */
function run(job: EvaluateRequest, later = false): void {
  current = job.id
  answered = false
  port?.unref()
  if (later) setImmediate(() => load(job))
  else load(job)
}

/**
 * An import-free bundle as a function that runs its code and returns its exports, or undefined when
 * the code is not in the shape esbuild gives such a bundle (its exports in one clause at the end) or
 * does not compile as a script (it reads `import.meta`, say): then it is imported as a module.
 *
 * Why: importing a module from a file costs Node a write, a resolve (stat, realpath), a read and its
 * loader's bookkeeping, ~0.6 ms per spec; compiling the same code as a function costs ~0.04 ms.
 * The function keeps what a module's code may observe: strict mode, `this` undefined, top-level
 * `await`, a stack naming the same URL and line (`lineOffset`) as the module would.
 *
 * `compileFunction`, not a `Script` or eval: V8 keeps those sources in its compilation cache, so
 * every evaluation (a spec's 48 MB JSON text with it) would stay in the heap; a module does too.
 */
function asScript(job: EvaluateRequest): (() => Promise<Record<string, unknown>>) | undefined {
  const clause = EXPORT_CLAUSE.exec(job.code)
  if (!clause) return undefined
  const fields: string[] = []
  for (const item of (clause[1] ?? '').split(',')) {
    const m = EXPORT_ITEM.exec(item)
    if (!m?.[1]) return undefined
    fields.push(`${JSON.stringify(m[2] ?? m[1])}: ${m[1]}`)
  }
  const body = `'use strict'; return (async () => {\n${job.code.slice(0, clause.index)}\nreturn { ${fields.join(', ')} }\n})()`
  try {
    return compileFunction(body, [], { filename: pathToFileURL(job.path).href, lineOffset: -1 }) as () => Promise<Record<string, unknown>>
  } catch {
    return undefined
  }
}

/** esbuild's one export clause at the end of an ESM bundle: `export {\n  a as default,\n  b\n};` */
const EXPORT_CLAUSE = /(?:^|\n)export\s*\{([^{}]*)\};?\s*$/
const EXPORT_ITEM = /^\s*([A-Za-z_$][\w$]*)(?:\s+as\s+([A-Za-z_$][\w$]*))?\s*$/

function load(job: EvaluateRequest): void {
  registry[JSON_REGISTRY] = job.json
  let loading: Promise<Record<string, unknown>>
  form = 'module'
  try {
    const script = job.importFree ? asScript(job) : undefined
    if (script) {
      form = 'script'
      loading = script()
    } else {
      writeFileSync(job.path, job.code)
      loading = import(pathToFileURL(job.path).href) as Promise<Record<string, unknown>>
    }
  } catch (err) {
    loading = Promise.reject(err)
  }
  const written = form === 'module'
  // The texts are parsed at the top of the bundle; dropping them frees the worker of a second copy.
  void loading
    .finally(() => {
      registry[JSON_REGISTRY] = undefined
      // Node keeps the parsed module after the file is gone.
      if (!written) return
      try {
        unlinkSync(job.path)
      } catch {
        // Never written (the write failed): nothing to remove.
      }
    })
    .catch(() => {})
  loading.then(
    (mod) => {
      const value = mod.default
      const kind = exportKind(value)
      const branded = kind === 'object' && (value as Record<symbol, unknown>)[SPEC_BRAND] === true
      answered = true
      try {
        // Only plain data crosses back: a spec is a JSON-like object, and what cannot be cloned
        // (a function) is reported by kind, for the loader's message.
        send({ id: job.id, type: 'value', value: kind === 'object' || kind === 'array' ? value : kind === 'function' ? undefined : value, hasDefault: 'default' in mod, branded, kind, form })
      } catch (err) {
        failed = true
        send(errorReply(job.id, new Error(`its default export cannot be passed on as data (${err instanceof Error ? err.message : String(err)})`), false))
      }
    },
    (err: unknown) => {
      answered = true
      failed = true
      send(errorReply(job.id, err, false))
    },
  )
}
