import { createHash, randomBytes } from 'node:crypto'

export type FakeJobStatus = 'queued' | 'in_progress' | 'completed' | 'failed' | 'cancelled'

export interface FakeJob {
  id: string
  body: Record<string, unknown>
  /** `hashBody(body)`. */
  bodyHash: string
  model: string
  /** `WxH`, as the API reports it. */
  size: string
  seconds: string
  format: 'MP4' | 'WEBM'
  /** Clock time (ms) of the create. */
  createdAt: number
  /** How long after creation the job reaches its outcome; the first third of it is `queued`. */
  durationMs: number
  outcome: 'completed' | 'failed' | 'cancelled' | 'never'
  error?: { message: string; code?: string } | undefined
  cost: number
  /** The create request's headers, without `authorization`. */
  headers: Record<string, string>
  /** The URL path the create came in on (`/v2/videos`, `/v1/videos`, `/videos`). */
  path: string
}

/** Sorted-key JSON, so two bodies that differ only in key order hash the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** The key of `createsByBody`: sha256 hex of the canonical JSON of a create body. */
export function hashBody(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex')
}

/** Time-ordered like Together's UUIDv7 ids, e.g. `019a0068-794a-7213-90f6-cc4eb62e3da7`. */
export function jobId(now: number): string {
  const time = now.toString(16).padStart(12, '0').slice(-12)
  const rand = randomBytes(10).toString('hex')
  const variant = ((parseInt(rand.slice(3, 4), 16) & 0x3) | 0x8).toString(16)
  return `${time.slice(0, 8)}-${time.slice(8)}-7${rand.slice(0, 3)}-${variant}${rand.slice(4, 7)}-${rand.slice(7, 19)}`
}

const RATIOS: Record<string, [number, number]> = {
  '16:9': [16, 9],
  '9:16': [9, 16],
  '1:1': [1, 1],
  '4:3': [4, 3],
  '3:4': [3, 4],
}
const SHORT_SIDE: Record<string, number> = { '480p': 480, '720p': 720, '1080p': 1080, '4k': 2160 }

/** The size the job reports: width/height, else resolution + ratio, else the docs' default 1366x768. */
export function jobSize(body: Record<string, unknown>): string {
  if (typeof body.width === 'number' && typeof body.height === 'number') return `${body.width}x${body.height}`
  const short = typeof body.resolution === 'string' ? SHORT_SIDE[body.resolution.toLowerCase()] : undefined
  if (short) {
    const [a, b] = RATIOS[typeof body.ratio === 'string' ? body.ratio : '16:9'] ?? [16, 9]
    const even = (n: number) => Math.round(n / 2) * 2
    return a >= b ? `${even((short * a) / b)}x${short}` : `${short}x${even((short * b) / a)}`
  }
  return '1366x768'
}

export function jobStatus(job: FakeJob, now: number): FakeJobStatus {
  const elapsed = now - job.createdAt
  if (job.durationMs > 0 && elapsed < job.durationMs / 3) return 'queued'
  if (job.outcome === 'never' || elapsed < job.durationMs) return 'in_progress'
  return job.outcome
}

/** When the job reached its outcome, if it has. */
export function jobDoneAt(job: FakeJob, now: number): number | undefined {
  const status = jobStatus(job, now)
  return status === 'queued' || status === 'in_progress' ? undefined : job.createdAt + job.durationMs
}

/** The VideoJob JSON. `videoUrl` is minted by the caller for each answer about a completed job. */
export function videoJobJson(
  job: FakeJob,
  now: number,
  opts: { isoTimestamps: boolean; videoUrl?: string | undefined },
): Record<string, unknown> {
  const stamp = (ms: number) => (opts.isoTimestamps ? new Date(ms).toISOString() : Math.floor(ms / 1000))
  const status = jobStatus(job, now)
  const doneAt = jobDoneAt(job, now)
  const json: Record<string, unknown> = {
    id: job.id,
    object: 'video',
    model: job.model,
    status,
    created_at: stamp(job.createdAt),
    size: job.size,
    seconds: job.seconds,
  }
  if (doneAt !== undefined) json.completed_at = stamp(doneAt)
  if (status === 'completed') json.outputs = { cost: job.cost, video_url: opts.videoUrl }
  if (status === 'failed') {
    json.error = job.error ?? { message: 'generation failed' }
    json.outputs = null
  }
  return json
}
