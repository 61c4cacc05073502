import type { ProviderRequest } from '../providers/types.js'

/** The last few jobs of a kind are what a new one is judged by: a model's speed drifts over a day. */
const KEEP = 8
/** A new job is left alone for at least this share of the shortest of them: they vary, and a miss costs a late look. */
const SHARE = 0.8
/** Fewer seen than this, and how much they vary is not known yet: the share alone holds. */
const SPREAD_FROM = 3

/**
 * How long jobs of one kind (provider, model, size, length, steps) took in this process, from the
 * create's answer to the poll that saw them done. A job like them is not polled while it cannot be
 * done yet: a build of many alike jobs then asks about each a few times near its end instead of
 * every interval from the start (requests, and CPU on both sides of them), and near that end it is
 * polled at the first interval again instead of a backed-off one, so it is seen done sooner.
 * Jobs resumed from the journal teach nothing (their start is not this process's) and wait as
 * before.
 */
export class JobDurations {
  readonly #seen = new Map<string, number[]>()

  record(provider: string, req: ProviderRequest, ms: number): void {
    const kind = jobKind(provider, req)
    const list = this.#seen.get(kind) ?? []
    list.push(ms)
    if (list.length > KEEP) list.shift()
    this.#seen.set(kind, list)
  }

  /**
   * How long after its create's answer a job of this kind may be left alone (0 when none has
   * finished): SHARE of the shortest time seen, or longer once a few times seen say how much they
   * vary. A time seen is the job's own and the wait for the poll that saw it done (about an interval,
   * `intervalMs`), and a new job that beats the shortest of them does so by about the gap between one
   * time seen and the next: the shortest less the larger of the two is a time few jobs of the kind
   * are done by. Jobs that take alike times are then polled some twice each instead of three times
   * or more; a kind whose times vary widely keeps SHARE.
   */
  quietMs(provider: string, req: ProviderRequest, intervalMs: number): number {
    const list = this.#seen.get(jobKind(provider, req))
    if (!list || list.length === 0) return 0
    const shortest = Math.min(...list)
    const share = shortest * SHARE
    if (list.length < SPREAD_FROM) return Math.floor(share)
    const gap = (Math.max(...list) - shortest) / (list.length - 1)
    return Math.floor(Math.max(share, shortest - Math.max(intervalMs, gap)))
  }
}

/** What a job's running time depends on: the prompt and the seed do not change it much. */
function jobKind(provider: string, { request: r }: ProviderRequest): string {
  return [provider, r.model, r.width, r.height, r.resolution, r.ratio, r.seconds, r.fps, r.steps, r.generate_audio, r.output_format].join('\0')
}
