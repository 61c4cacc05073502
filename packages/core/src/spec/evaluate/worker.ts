/*
 * The worker thread that evaluates spec bundles for the pool (pool.ts). Kept free of imports beyond
 * Node's own (and export-kind.ts, which has none), so it stays small wherever core is installed.
 *
 * One job at a time: the pool sends a bundle's path, this imports it and answers with the default
 * export, then says `drained` once the job has left nothing behind. "Nothing behind" is Node's own
 * notion: while a job runs the port to the pool is unref'd, so when the spec's last timer, socket or
 * promise callback is gone the loop empties and `beforeExit` fires. A spec that keeps the loop alive
 * (an interval, an open server) never drains and is stopped by the pool's timeout; a top-level await
 * that can never settle drains with no answer, which is how it is told apart from a slow one.
 */
import { parentPort } from 'node:worker_threads'
import { getHeapStatistics } from 'node:v8'
import { exportKind } from '../export-kind.js'

export interface EvaluateRequest {
  id: number
  /** Absolute path of the bundle (written by the pool, removed by it). */
  path: string
  /** JSON texts the bundle parses, by path (see bundle.ts, `jsonModule`). */
  json: Record<string, string>
}

export type EvaluateReply =
  | { id: number; type: 'value'; value: unknown; hasDefault: boolean; branded: boolean; kind: string }
  | { id: number; type: 'error'; message: string; stack?: string | undefined; late: boolean }
  | { id: number; type: 'drained'; heapBytes: number }

const port = parentPort
if (!port) throw new Error('vidspec: the evaluator worker must run in a worker thread')
const SPEC_BRAND = Symbol.for('vidspec.spec')
const JSON_REGISTRY = Symbol.for('vidspec.json')
const registry = globalThis as unknown as Record<symbol, Record<string, string> | undefined>

// Without this Node ignores the bundle's inline map and errors point into the temp file.
process.setSourceMapsEnabled(true)

let current: number | undefined
let answered = false

function send(reply: EvaluateReply): void {
  port?.postMessage(reply)
}

function errorReply(id: number, err: unknown, late: boolean): EvaluateReply {
  const e = err instanceof Error ? err : undefined
  return { id, type: 'error', message: e ? e.message : String(err), stack: e?.stack, late }
}

/** A rejection nobody handles, or a throw from a timer: that spec's error, never the pool's. */
function onLate(err: unknown): void {
  if (current !== undefined) send(errorReply(current, err, answered))
}
process.on('unhandledRejection', onLate)
process.on('uncaughtException', onLate)

process.on('beforeExit', () => {
  if (current === undefined) return
  const id = current
  current = undefined
  send({ id, type: 'drained', heapBytes: getHeapStatistics().used_heap_size })
  // Keeps the worker for the next job: a ref'd port with a listener keeps the loop alive.
  port.ref()
})

port.on('message', (job: EvaluateRequest) => {
  current = job.id
  answered = false
  port.unref()
  registry[JSON_REGISTRY] = job.json
  const loading = import(job.path)
  // The texts are parsed at the top of the bundle; dropping them frees the worker of a second copy.
  void loading.finally(() => (registry[JSON_REGISTRY] = undefined)).catch(() => {})
  loading.then(
    (mod: Record<string, unknown>) => {
      const value = mod.default
      const kind = exportKind(value)
      const branded = kind === 'object' && (value as Record<symbol, unknown>)[SPEC_BRAND] === true
      answered = true
      try {
        // Only plain data crosses back: a spec is a JSON-like object, and what cannot be cloned
        // (a function) is reported by kind, for the loader's message.
        send({ id: job.id, type: 'value', value: kind === 'object' || kind === 'array' ? value : kind === 'function' ? undefined : value, hasDefault: 'default' in mod, branded, kind })
      } catch (err) {
        send(errorReply(job.id, new Error(`its default export cannot be passed on as data (${err instanceof Error ? err.message : String(err)})`), false))
      }
    },
    (err: unknown) => {
      answered = true
      send(errorReply(job.id, err, false))
    },
  )
})
