import type { ProviderRequest } from '../providers/types.js'

/** The last few jobs of a kind are what a new one is judged by: a model's speed drifts over a day. */
const KEEP = 8
/** A new job is left alone for at least this share of the shortest of them: they vary, and a miss costs a late look. */
const SHARE = 0.8
/** Fewer seen than this, and how much they vary is not known yet: the share alone holds. */
const SPREAD_FROM = 3

/**
 * What the polls of one finished job said, in ms after its create was sent: when the poll that saw it
 * done was sent, and when the last one that saw it still running was (none when the first poll saw
 * it done). Its end lies between the two.
 */
export interface PollsSeen {
  doneMs: number
  runningMs?: number | undefined
}

/**
 * How long jobs of one kind (provider, model, size, length, steps) took in this process, as their
 * polls saw it. A job like them is not polled while it cannot be done yet: a build of many alike jobs
 * then asks about each a few times near its end instead of every interval from the start (requests,
 * and CPU on both sides of them), and near that end it is polled at the first interval again instead
 * of a backed-off one, so it is seen done sooner. Jobs resumed from the journal teach nothing (their
 * start is not this process's) and wait as before.
 */
export class JobDurations {
  readonly #seen = new Map<string, PollsSeen[]>()

  record(provider: string, req: ProviderRequest, seen: PollsSeen): void {
    const kind = jobKind(provider, req)
    const list = this.#seen.get(kind) ?? []
    list.push(seen)
    if (list.length > KEEP) list.shift()
    this.#seen.set(kind, list)
  }

  /**
   * When to ask about a new job of this kind, in ms after its create was sent, before asking every
   * interval from the last of them: nothing when none has finished.
   *
   * Where the jobs seen all ended within one interval of each other (each was seen running at some
   * moment and done at a later one, and those moments pin every end to one short span), the job is
   * asked about once in the middle of that span and once at its end: jobs that take the same time
   * are seen done within a few ms of their end, not half an interval on average, and an answer at
   * the middle narrows the span the next job is asked in. A kind that gets slower is asked at its old
   * span, and seen done late, until its old times leave the last KEEP. One that gets faster is seen
   * done at every first ask; once the last SPREAD_FROM were, the next job is asked by the rule below,
   * which asks before the span and walks down to the new times (in steady times a few jobs in a row
   * are done at their first ask now and then, and pay one more poll for it).
   *
   * Otherwise it is left alone for SHARE of the shortest time seen, or longer once a few times seen
   * say how much they vary: a new job that beats the shortest of them does so by about the gap between
   * one time seen and the next, so the shortest less the larger of that gap and an interval is a time
   * few jobs of the kind are done by. A kind whose times vary widely keeps SHARE.
   */
  asks(provider: string, req: ProviderRequest, intervalMs: number): number[] {
    const list = this.#seen.get(jobKind(provider, req))
    if (!list || list.length === 0) return []
    const done = list.map((s) => s.doneMs)
    const shortest = Math.min(...done)
    const share = shortest * SHARE
    if (list.length < SPREAD_FROM) return [Math.floor(share)]
    const running = list.flatMap((s) => (s.runningMs === undefined ? [] : [s.runningMs]))
    // The last few all seen done at their first ask: the kind may have got faster than its span says,
    // which only an ask before the span can tell.
    const allFirst = list.slice(-SPREAD_FROM).every((s) => s.runningMs === undefined)
    if (running.length > 0 && !allFirst) {
      // Every end seen lies after the latest moment one was still running and by the earliest one
      // was done, in whichever order those two came (a little jitter puts them either way round).
      const latestRunning = Math.max(...running)
      const from = Math.min(latestRunning, shortest)
      const to = Math.max(latestRunning + 1, shortest)
      if (to - from <= intervalMs) return [Math.floor((from + to) / 2), to]
    }
    const gap = (Math.max(...done) - shortest) / (list.length - 1)
    return [Math.floor(Math.max(share, shortest - Math.max(intervalMs, gap)))]
  }
}

/** What a job's running time depends on: the prompt and the seed do not change it much. */
function jobKind(provider: string, { request: r }: ProviderRequest): string {
  return [provider, r.model, r.width, r.height, r.resolution, r.ratio, r.seconds, r.fps, r.steps, r.generate_audio, r.output_format].join('\0')
}
