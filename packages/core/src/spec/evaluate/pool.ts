import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Worker } from 'node:worker_threads'
import type { EvaluateReply, EvaluateRequest } from './worker.js'

/*
 * Specs are evaluated in worker threads, never in the process that runs the build, the dev server or
 * watch mode:
 * - a spec that loops forever, never settles or keeps a timer alive is stopped by a timeout (the
 *   worker is terminated, which interrupts even `while (true) {}`), and the process stays responsive
 *   to signals and requests meanwhile;
 * - an unhandled rejection or a throwing timer lands in the worker, as that spec's error;
 * - the modules an evaluation loads (a 48 MB JSON, say) live in the worker's heap and go with it:
 *   a worker is replaced after a number of jobs, after a big heap, and after any failure.
 */

export interface EvaluationOutcome {
  /** The default export as data (structured clone), when the module evaluated and drained. */
  value?: unknown
  hasDefault: boolean
  branded: boolean
  /** `typeof` of the default export ('null' and 'array' spelled out). */
  kind: string
  error?: EvaluationFailure
}

export interface EvaluationFailure {
  reason: 'threw' | 'threw-later' | 'never-settled' | 'timeout' | 'kept-alive' | 'exited' | 'crashed'
  message: string
  stack?: string | undefined
}

export interface PoolOptions {
  /** Workers at most; @default cores, from 2 to 4 */
  size?: number
  /**
   * A worker is replaced after this many evaluations. @default 500: starting a worker costs ~50-100
   * ms of CPU, and the heap limit below already retires a worker that loaded too much.
   */
  maxJobsPerWorker?: number
  /** ...or once its heap is over this after an evaluation. @default 96 MB */
  maxHeapBytes?: number
}

interface Job {
  code: string
  json: Record<string, string>
  name: string
  timeoutMs: number
  signal: AbortSignal | undefined
  resolve: (outcome: EvaluationOutcome) => void
  reject: (err: unknown) => void
}

interface Slot {
  worker: Worker
  /** Settles when the worker thread runs: a spec's time starts then, not while a loaded machine starts a thread. */
  online: Promise<void>
  jobs: number
  busy: boolean
}

const WORKER_HEAP_LIMIT_MB = 2048

interface Spawner {
  file: URL
  threads: typeof import('node:worker_threads')
}

let compiledWorker: string | undefined

/**
 * The worker's file: `evaluate-worker.js` beside core's bundle, `worker.js` beside the compiled
 * pool, or, when core runs from source (its own tests), worker.ts bundled once to a temp file
 * (Node 20 cannot run TypeScript).
 */
async function workerFile(): Promise<URL> {
  for (const rel of ['./evaluate-worker.js', './worker.js']) {
    const url = new URL(rel, import.meta.url)
    if (existsSync(fileURLToPath(url))) return url
  }
  const source = fileURLToPath(new URL('./worker.ts', import.meta.url))
  if (!compiledWorker) {
    const { build } = await import('esbuild')
    const out = await build({ entryPoints: [source], bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'silent' })
    const dir = mkdtempSync(join(tmpdir(), 'vidspec-worker-'))
    compiledWorker = join(dir, 'worker.mjs')
    writeFileSync(compiledWorker, out.outputFiles[0]?.text ?? '')
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  }
  return pathToFileURL(compiledWorker)
}

export class EvaluatorPool {
  readonly #size: number
  readonly #maxJobs: number
  readonly #maxHeap: number
  readonly #slots: Slot[] = []
  readonly #queue: Job[] = []
  #nextId = 0
  #dir: { path: string; users: number } | undefined
  #closed = false
  /**
   * The worker's file and node:worker_threads, loaded on the first evaluation: a plan whose specs all
   * come from the memo never needs either.
   */
  #loading: Promise<Spawner> | undefined
  #spawner: Spawner | undefined

  constructor(opts: PoolOptions = {}) {
    // At least two, so one spec stuck until its timeout never holds up every other spec (a dev server).
    this.#size = Math.max(1, opts.size ?? Math.min(Math.max(availableParallelism(), 2), 4))
    this.#maxJobs = opts.maxJobsPerWorker ?? 500
    this.#maxHeap = opts.maxHeapBytes ?? 96 * 1024 * 1024
  }

  /** Workers alive now (for tests and benchmarks). */
  get workers(): number {
    return this.#slots.length
  }

  /** Evaluates one bundle in a worker. Rejects only when `signal` aborts; every spec failure is an outcome. */
  async evaluate(
    code: string,
    name: string,
    opts: { timeoutMs: number; signal?: AbortSignal | undefined; json?: Record<string, string> | undefined },
  ): Promise<EvaluationOutcome> {
    this.#spawner ??= await (this.#loading ??= Promise.all([workerFile(), import('node:worker_threads')]).then(([file, threads]) => ({ file, threads })))
    if (opts.signal?.aborted) throw opts.signal.reason
    return new Promise((resolve, reject) => {
      this.#queue.push({ code, json: opts.json ?? {}, name, timeoutMs: opts.timeoutMs, signal: opts.signal, resolve, reject })
      this.#pump()
    })
  }

  /** Stops every worker (idle ones keep no process alive, so this is only for a clean teardown). */
  async close(): Promise<void> {
    this.#closed = true
    const slots = this.#slots.splice(0)
    await Promise.all(slots.map((s) => s.worker.terminate()))
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => !s.busy)
      if (!slot && this.#slots.length < this.#size) slot = this.#spawn()
      if (!slot) return
      const job = this.#queue.shift() as Job
      if (job.signal?.aborted) {
        job.reject(job.signal.reason)
        continue
      }
      void this.#run(slot, job)
    }
  }

  #spawn(): Slot {
    const { file, threads } = this.#spawner as Spawner
    const worker = new threads.Worker(file, {
      // Specs see the environment as it is now, not as it was when the worker started.
      env: threads.SHARE_ENV,
      // A spec that allocates without bound fails as itself (ERR_WORKER_OUT_OF_MEMORY).
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_LIMIT_MB },
    })
    const online = new Promise<void>((resolve) => {
      worker.once('online', resolve)
      worker.once('exit', resolve)
    })
    const slot: Slot = { worker, online, jobs: 0, busy: false }
    // An idle worker never keeps the process alive; a crash between jobs only retires it.
    worker.unref()
    worker.on('error', () => this.#retire(slot))
    worker.on('exit', () => this.#retire(slot))
    this.#slots.push(slot)
    return slot
  }

  async #run(slot: Slot, job: Job): Promise<void> {
    slot.busy = true
    slot.worker.ref()
    const dir = this.#enterDir()
    const id = ++this.#nextId
    const path = join(dir, `${id}-${basename(job.name)}.mjs`)
    let outcome: EvaluationOutcome
    try {
      writeFileSync(path, job.code)
      await slot.online
      outcome = await this.#exchange(slot, job, { id, path: pathToFileURL(path).href, json: job.json })
    } catch (err) {
      outcome = { hasDefault: false, branded: false, kind: 'undefined', error: { reason: 'crashed', message: err instanceof Error ? err.message : String(err) } }
    } finally {
      rmSync(path, { force: true })
      this.#leaveDir()
    }
    slot.jobs++
    slot.busy = false
    const aborted = job.signal?.aborted
    if (outcome.error || slot.jobs >= this.#maxJobs || aborted || this.#closed) this.#retire(slot)
    else slot.worker.unref()
    if (aborted) job.reject(job.signal?.reason)
    else job.resolve(outcome)
    this.#pump()
  }

  /** Sends one job and collects its replies until it drains, fails, times out or is aborted. */
  #exchange(slot: Slot, job: Job, request: EvaluateRequest): Promise<EvaluationOutcome> {
    const { worker } = slot
    return new Promise((resolve) => {
      const outcome: EvaluationOutcome = { hasDefault: false, branded: false, kind: 'undefined' }
      let answered = false
      let settled = false
      const finish = (error?: EvaluationFailure, heapBytes?: number) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        worker.off('message', onMessage)
        worker.off('error', onError)
        worker.off('exit', onExit)
        job.signal?.removeEventListener('abort', onAbort)
        if (error && !outcome.error) outcome.error = error
        if (heapBytes !== undefined && heapBytes > this.#maxHeap) slot.jobs = this.#maxJobs
        resolve(outcome)
      }
      const onMessage = (reply: EvaluateReply) => {
        if (reply.id !== request.id) return
        if (reply.type === 'value') {
          answered = true
          Object.assign(outcome, { value: reply.value, hasDefault: reply.hasDefault, branded: reply.branded, kind: reply.kind })
        } else if (reply.type === 'error') {
          const reason = reply.late ? 'threw-later' : answered ? 'threw-later' : 'threw'
          outcome.error ??= { reason, message: reply.message, stack: reply.stack }
          if (!reply.late && !answered) answered = true
        } else {
          finish(answered ? undefined : { reason: 'never-settled', message: 'never-settled' }, reply.heapBytes)
        }
      }
      const onError = (err: Error) => finish({ reason: 'crashed', message: err.message, stack: err.stack })
      const onExit = (code: number) => finish({ reason: 'exited', message: `exited with code ${code}` })
      const onAbort = () => finish({ reason: 'crashed', message: 'aborted' })
      const timer = setTimeout(() => {
        finish({ reason: answered ? 'kept-alive' : 'timeout', message: `${job.timeoutMs}` })
      }, job.timeoutMs)
      worker.on('message', onMessage)
      worker.on('error', onError)
      worker.on('exit', onExit)
      job.signal?.addEventListener('abort', onAbort, { once: true })
      if (job.signal?.aborted) return onAbort()
      worker.postMessage(request)
    })
  }

  #retire(slot: Slot): void {
    const i = this.#slots.indexOf(slot)
    if (i >= 0) this.#slots.splice(i, 1)
    // terminate() interrupts a spec stuck in a loop; its promise is not awaited by the job.
    void slot.worker.terminate()
  }

  /** One temp folder for the bundles in flight, created by the first and removed by the last. */
  #enterDir(): string {
    this.#dir ??= { path: mkdtempSync(join(tmpdir(), 'vidspec-load-')), users: 0 }
    this.#dir.users++
    return this.#dir.path
  }

  #leaveDir(): void {
    if (!this.#dir || --this.#dir.users > 0) return
    rmSync(this.#dir.path, { recursive: true, force: true })
    this.#dir = undefined
  }
}
