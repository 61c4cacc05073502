import type { ContainerFault } from './container-faults.js'

/** Which request a fault applies to. `download` is the GET of the result file (after the redirect). */
export type FaultOp = 'create' | 'poll' | 'download'

export interface FaultMatchInfo {
  op: FaultOp
  /** The job polled or downloaded (not set for a create). */
  jobId?: string | undefined
  /** The create body (set for a create), or the body the polled/downloaded job was created from. */
  body?: Record<string, unknown> | undefined
}

/** Narrows a fault to some requests: a predicate, or fields that must all match. */
export type FaultMatch =
  | ((info: FaultMatchInfo) => boolean)
  | { jobId?: string; model?: string; prompt?: string | RegExp }

interface FaultBase {
  /** How many matching requests it hits before it is used up. @default 1 (Infinity: until reset()) */
  times?: number
  match?: FaultMatch
}

interface RetryAfter {
  /** Sent as `retry-after` (seconds). */
  retryAfterS?: number
  /** Sent as `retry-after-ms`. */
  retryAfterMs?: number
}

/** Faults of the API requests. `op` defaults to `create`. */
export type RequestFault = FaultBase &
  (
    | ({ kind: 'rate-limit'; op?: 'create' | 'poll'; message?: string } & RetryAfter)
    | ({ kind: 'server-error' | 'unavailable'; op?: 'create' | 'poll' } & RetryAfter)
    | { kind: 'payment' | 'auth'; op?: 'create' | 'poll' }
    | {
        kind: 'http-error'
        op?: 'create' | 'poll'
        status: number
        message?: string
        type?: string
        code?: string | null
        headers?: Record<string, string>
      }
    /** The body is read, then the socket is destroyed: no job is created. */
    | { kind: 'drop'; op?: 'create' | 'poll' }
    /** The body is read and no answer ever comes (until the client gives up or the fake closes). */
    | { kind: 'hang'; op?: 'create' | 'poll' }
    /** 200 with an HTML body, as a misconfigured proxy would answer. For a create, the job IS created. */
    | { kind: 'malformed'; op?: 'create' | 'poll' }
    /** The job is created and counted, then the socket is destroyed before the answer: the uncertain create. */
    | { kind: 'drop-after-create' }
    /** The job is created and counted, and no answer ever comes. */
    | { kind: 'hang-after-create' }
    /**
     * The job is created and counted, then answered as a gateway or a broken API would:
     * `html` a page (e.g. "502 Bad Gateway"), `empty` no body, `json` the API's error envelope,
     * `no-id` (with status 200) a JSON body without a job id.
     */
    | { kind: 'answer-after-create'; status: number; body: 'html' | 'empty' | 'json' | 'no-id' }
    /** The job is created and counted; its normal answer waits until `fake.releaseHeld()`. */
    | { kind: 'hold-after-create' }
  )

/** Faults of the job a create makes. */
export type JobFault = FaultBase &
  (
    /** Ends `failed` with `error: { message, code }` and `outputs: null`. */
    | { kind: 'job-fails'; message?: string; code?: string; durationMs?: number }
    | { kind: 'job-cancelled'; durationMs?: number }
    /** Stays `in_progress` forever. */
    | { kind: 'job-never-finishes' }
    /** Its own duration: 0 makes the create answer already `completed`. */
    | { kind: 'job-duration'; durationMs: number }
  )

/** Faults of the result file download. */
export type DownloadFault = FaultBase &
  (
    /** Sends the headers and `afterBytes` bytes (default: half), then resets the connection. */
    | { kind: 'download-drop'; afterBytes?: number }
    /** Content-Length is the full size, `bytes` bytes (default: half) are sent, then the connection ends cleanly. */
    | { kind: 'download-truncated'; bytes?: number }
    /** Content-Length is off by `delta`; the whole body is sent, then the connection closes. */
    | { kind: 'download-wrong-length'; delta: number }
    /** The body trickles: `chunkBytes` (default 4096) every `delayMs` (default 50). */
    | { kind: 'download-slow'; chunkBytes?: number; delayMs?: number }
    /** A valid MP4 padded with a `free` box to exactly `bytes`, streamed. */
    | { kind: 'download-large'; bytes: number }
    /** 403 as if the signed URL had expired. */
    | { kind: 'download-expired' }
    | { kind: 'download-error'; status: number }
  )
  | ContainerFault

export type Fault = RequestFault | JobFault | DownloadFault
export type FaultKind = Fault['kind']

export interface FiredFault {
  kind: FaultKind
  op: FaultOp
  jobId?: string | undefined
  at: number
}

const AFTER_CREATE_KINDS = new Set<FaultKind>(['drop-after-create', 'hang-after-create', 'answer-after-create', 'hold-after-create'])
const JOB_KINDS = new Set<FaultKind>(['job-fails', 'job-cancelled', 'job-never-finishes', 'job-duration'])

function opOf(fault: Fault): FaultOp | 'job' {
  if (JOB_KINDS.has(fault.kind)) return 'job'
  if (fault.kind.startsWith('download-')) return 'download'
  if (AFTER_CREATE_KINDS.has(fault.kind)) return 'create'
  return (fault as { op?: 'create' | 'poll' }).op ?? 'create'
}

function matches(match: FaultMatch | undefined, info: FaultMatchInfo): boolean {
  if (!match) return true
  if (typeof match === 'function') return match(info)
  if (match.jobId !== undefined && match.jobId !== info.jobId) return false
  if (match.model !== undefined && match.model !== info.body?.model) return false
  if (match.prompt !== undefined) {
    const prompt = info.body?.prompt
    if (typeof prompt !== 'string') return false
    if (typeof match.prompt === 'string' ? prompt !== match.prompt : !match.prompt.test(prompt)) return false
  }
  return true
}

/** Faults waiting to happen, first come first served. */
export class FaultQueue {
  #queue: Array<{ fault: Fault; left: number }> = []
  readonly fired: FiredFault[] = []

  add(fault: Fault): void {
    const left = fault.times ?? 1
    if (!(left > 0)) throw new Error(`fault ${fault.kind}: times must be positive (got ${left})`)
    this.#queue.push({ fault, left })
  }

  /** Pending faults, with how many hits each has left. */
  pending(): Array<{ kind: FaultKind; left: number }> {
    return this.#queue.map((q) => ({ kind: q.fault.kind, left: q.left }))
  }

  clear(): void {
    this.#queue = []
    this.fired.length = 0
  }

  take(op: 'create' | 'poll', info: FaultMatchInfo): RequestFault | undefined
  take(op: 'job', info: FaultMatchInfo): JobFault | undefined
  take(op: 'download', info: FaultMatchInfo): DownloadFault | undefined
  take(op: FaultOp | 'job', info: FaultMatchInfo): Fault | undefined {
    const index = this.#queue.findIndex((q) => opOf(q.fault) === op && matches(q.fault.match, info))
    const entry = this.#queue[index]
    if (!entry) return undefined
    entry.left -= 1
    if (entry.left <= 0) this.#queue.splice(index, 1)
    this.fired.push({ kind: entry.fault.kind, op: info.op, jobId: info.jobId, at: Date.now() })
    return entry.fault
  }
}
