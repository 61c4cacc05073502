import { createHash } from 'node:crypto'
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Worker } from 'node:worker_threads'
import { randomId } from '../../store/layout.js'
import type { EvaluateReply, EvaluateRequest, EvaluationForm } from './worker.js'

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
  /** How it ran, when it did (see worker.ts, `asScript`). */
  form?: EvaluationForm | undefined
  error?: EvaluationFailure
}

export interface EvaluationFailure {
  reason: 'threw' | 'threw-later' | 'never-settled' | 'timeout' | 'kept-alive' | 'exited' | 'crashed'
  message: string
  stack?: string | undefined
  /** The URL the worker imported the code from: how the stack names the code's own frames. */
  bundleUrl?: string | undefined
}

export interface PoolOptions {
  /** Workers at most; @default cores, from 2 to 4 */
  size?: number
  /**
   * A worker is replaced after this many evaluations. @default 2000: starting a worker costs ~50-100
   * ms of CPU, every bundle it imported as a module stays in its heap (~9 MB per 1,000 small specs;
   * one run as a script is collected), and the heap limit below already retires a worker that loaded
   * too much.
   */
  maxJobsPerWorker?: number
  /** ...or once its heap is over this after an evaluation. @default 96 MB */
  maxHeapBytes?: number
}

interface Job {
  code: string
  importFree: boolean
  json: Record<string, string>
  name: string
  timeoutMs: number
  signal: AbortSignal | undefined
  resolve: (outcome: EvaluationOutcome) => void
  reject: (err: unknown) => void
}

/** A job sent to a worker: the first of a slot's runs is running there, the others wait there. */
interface Run {
  id: number
  job: Job
  path: string
  outcome: EvaluationOutcome
  answered: boolean
  started: boolean
}

interface Slot {
  worker: Worker
  /** Settles when the worker thread runs: a spec's time starts then, not while a loaded machine starts a thread. */
  online: Promise<void>
  /** Jobs sent to it so far. */
  jobs: number
  /** Jobs sent and not yet finished, in the order the worker runs them. */
  runs: Run[]
  /** Set when the running job's time starts: its timeout. */
  timer?: NodeJS.Timeout | undefined
  /** The running job's abort listener, removed when it finishes. */
  onAbort?: (() => void) | undefined
  retired: boolean
}

/**
 * Jobs sent to one worker at once: the worker starts the second the moment the first drains, instead
 * of waiting for this thread (busy bundling, validating, writing the memo) to send it. Two, not more:
 * a job waiting behind a spec that loops waits out that spec's timeout (a cold plan of 1,000 specs
 * measured the same with 2, 4 and 8).
 */
const PIPELINE_DEPTH = 2

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
    const text = out.outputFiles[0]?.text ?? ''
    // Named by its content, so every test process shares one file per version of the worker instead
    // of leaving a folder each (a test runner kills its processes before 'exit' handlers run), and
    // written aside then renamed, so a process never imports another's half-written copy.
    const file = join(tmpdir(), `vidspec-worker-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.mjs`)
    if (!existsSync(file)) {
      const aside = `${file}.${randomId()}.tmp`
      writeFileSync(aside, text)
      renameSync(aside, file)
    }
    compiledWorker = file
  }
  return pathToFileURL(compiledWorker)
}

export class EvaluatorPool {
  readonly #size: number
  readonly #maxJobs: number
  readonly #maxHeap: number
  /** Read once: `os.tmpdir()` reads three environment variables, ~20-50 µs a call, once per job before. */
  readonly #tmp = tmpdir()
  readonly #slots: Slot[] = []
  readonly #queue: Job[] = []
  /** Retired workers not yet stopped, and the removal of their jobs' files after. */
  readonly #stopping = new Set<Promise<void>>()
  #nextId = 0
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
    this.#maxJobs = opts.maxJobsPerWorker ?? 2000
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
    opts: { timeoutMs: number; signal?: AbortSignal | undefined; json?: Record<string, string> | undefined; importFree?: boolean | undefined },
  ): Promise<EvaluationOutcome> {
    this.#spawner ??= await (this.#loading ??= Promise.all([workerFile(), import('node:worker_threads')]).then(([file, threads]) => ({ file, threads })))
    if (opts.signal?.aborted) throw opts.signal.reason
    return new Promise((resolve, reject) => {
      this.#queue.push({ code, importFree: opts.importFree ?? false, json: opts.json ?? {}, name, timeoutMs: opts.timeoutMs, signal: opts.signal, resolve, reject })
      this.#pump()
    })
  }

  /** Stops every worker (idle ones keep no process alive, so this is only for a clean teardown). */
  async close(): Promise<void> {
    this.#closed = true
    for (const slot of [...this.#slots]) this.#retire(slot)
    await Promise.all(this.#stopping)
  }

  #pump(): void {
    if (this.#closed) {
      for (const job of this.#queue.splice(0)) job.resolve({ hasDefault: false, branded: false, kind: 'undefined', error: { reason: 'crashed', message: 'the evaluator pool was closed' } })
      return
    }
    for (let job = this.#queue[0]; job; job = this.#queue[0]) {
      if (job.signal?.aborted) {
        this.#queue.shift()
        job.reject(job.signal.reason)
        continue
      }
      const slot = this.#slotWithRoom()
      if (!slot) return
      this.#queue.shift()
      this.#send(slot, job)
    }
  }

  /** An idle worker, else a new one, else the least loaded worker that can take one more job. */
  #slotWithRoom(): Slot | undefined {
    const open = this.#slots.filter((s) => !s.retired && s.jobs < this.#maxJobs)
    const idle = open.find((s) => s.runs.length === 0)
    if (idle) return idle
    if (this.#slots.length < this.#size) return this.#spawn()
    let best: Slot | undefined
    for (const s of open) if (s.runs.length < PIPELINE_DEPTH && (!best || s.runs.length < best.runs.length)) best = s
    return best
  }

  #spawn(): Slot {
    const { file, threads } = this.#spawner as Spawner
    const worker = new threads.Worker(file, {
      // Specs see the environment as it is now, not as it was when the worker started.
      env: threads.SHARE_ENV,
      // A spec that allocates without bound fails as itself (ERR_WORKER_OUT_OF_MEMORY).
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_LIMIT_MB },
      workerData: { maxHeapBytes: this.#maxHeap },
    })
    const online = new Promise<void>((resolve) => {
      worker.once('online', resolve)
      worker.once('exit', resolve)
    })
    const slot: Slot = { worker, online, jobs: 0, runs: [], retired: false }
    // An idle worker never keeps the process alive.
    worker.unref()
    worker.on('message', (reply: EvaluateReply) => this.#onReply(slot, reply))
    worker.on('error', (err: Error) => this.#fail(slot, { reason: 'crashed', message: err.message, stack: err.stack }))
    worker.on('exit', (code: number) => this.#fail(slot, { reason: 'exited', message: `exited with code ${code}` }))
    this.#slots.push(slot)
    return slot
  }

  #send(slot: Slot, job: Job): void {
    const id = ++this.#nextId
    // A name of its own directly in the temp folder: most jobs never write it (they run as scripts),
    // and a folder for the jobs in flight was made and removed again at every lull of a cold plan.
    const path = join(this.#tmp, `vidspec-load-${randomId()}-${basename(job.name)}.mjs`)
    const run: Run = { id, job, path, outcome: { hasDefault: false, branded: false, kind: 'undefined' }, answered: false, started: false }
    slot.runs.push(run)
    slot.jobs++
    slot.worker.ref()
    const request: EvaluateRequest = { id, code: job.code, path: run.path, importFree: job.importFree, json: job.json }
    slot.worker.postMessage(request)
    if (slot.runs.length === 1) void this.#start(slot)
  }

  /** The slot's first job is running (or about to): its time and its abort start counting now. */
  async #start(slot: Slot): Promise<void> {
    const run = slot.runs[0]
    if (!run || run.started) return
    run.started = true
    await slot.online
    if (slot.runs[0] !== run) return
    const { job } = run
    slot.onAbort = () => this.#fail(slot, { reason: 'crashed', message: 'aborted' })
    job.signal?.addEventListener('abort', slot.onAbort, { once: true })
    slot.timer = setTimeout(() => {
      this.#fail(slot, { reason: run.answered ? 'kept-alive' : 'timeout', message: `${job.timeoutMs}` })
    }, job.timeoutMs)
    if (job.signal?.aborted) slot.onAbort()
  }

  #onReply(slot: Slot, reply: EvaluateReply): void {
    const run = slot.runs[0]
    if (!run || reply.id !== run.id) return
    const { outcome } = run
    if (reply.type === 'value') {
      run.answered = true
      Object.assign(outcome, { value: reply.value, hasDefault: reply.hasDefault, branded: reply.branded, kind: reply.kind, form: reply.form })
    } else if (reply.type === 'error') {
      const reason = reply.late || run.answered ? 'threw-later' : 'threw'
      outcome.error ??= { reason, message: reply.message, stack: reply.stack }
      outcome.form = reply.form
      run.answered = true
    } else {
      // The worker starts nothing more after this job when the pool is about to retire it (worker.ts).
      const retire = Boolean(outcome.error) || !run.answered || reply.heapBytes > this.#maxHeap
      this.#finish(slot, run.answered ? undefined : { reason: 'never-settled', message: 'never-settled' }, retire)
    }
  }

  /** The running job failed as a whole (timeout, abort, crash, exit): the worker goes with it. */
  #fail(slot: Slot, error: EvaluationFailure): void {
    if (slot.runs.length === 0) return this.#retire(slot)
    this.#finish(slot, error, true)
  }

  /** Settles the slot's running job; when the worker retires, its waiting jobs (never started) go back to the queue. */
  #finish(slot: Slot, error: EvaluationFailure | undefined, retire: boolean): void {
    const run = slot.runs.shift()
    if (!run) return
    clearTimeout(slot.timer)
    if (slot.onAbort) run.job.signal?.removeEventListener('abort', slot.onAbort)
    slot.timer = slot.onAbort = undefined
    const { job, outcome } = run
    if (error && !outcome.error) outcome.error = error
    if (outcome.error) {
      outcome.error.bundleUrl = pathToFileURL(run.path).href
      // A job that ended well removed its own file; one that did not may have left it.
      rmSync(run.path, { force: true })
    }
    const aborted = job.signal?.aborted
    if (retire || aborted || this.#closed || (slot.jobs >= this.#maxJobs && slot.runs.length === 0)) {
      this.#retire(slot, run.path)
      const waiting = slot.runs.splice(0)
      this.#queue.unshift(...waiting.map((w) => w.job))
    } else if (slot.runs.length > 0) {
      void this.#start(slot)
    } else {
      slot.worker.unref()
    }
    if (aborted) job.reject(job.signal?.reason)
    else job.resolve(outcome)
    this.#pump()
  }

  #retire(slot: Slot, ...finished: string[]): void {
    if (slot.retired) return
    slot.retired = true
    const i = this.#slots.indexOf(slot)
    if (i >= 0) this.#slots.splice(i, 1)
    // Its jobs' files go once it has stopped: it may have started a waiting job on its own (see
    // worker.ts) and written that job's file, or be writing one as it is told to stop.
    const files = [...finished, ...slot.runs.map((r) => r.path)]
    // terminate() interrupts a spec stuck in a loop; its promise is not awaited by the job.
    const stopped: Promise<void> = slot.worker
      .terminate()
      .then(() => {
        for (const file of files) rmSync(file, { force: true })
      })
      .catch(() => {})
      .finally(() => this.#stopping.delete(stopped))
    this.#stopping.add(stopped)
  }
}
