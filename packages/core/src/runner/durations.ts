import type { ProviderRequest } from '../providers/types.js'

/** The last few jobs of a kind are what a new one is judged by: a model's speed drifts over a day. */
const KEEP = 8
/** A new job is left alone for this share of the shortest of them: they vary, and a miss costs a late look. */
const SHARE = 0.8

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

  /** How long after its create's answer a job of this kind may be left alone (0 when none has finished). */
  quietMs(provider: string, req: ProviderRequest): number {
    const list = this.#seen.get(jobKind(provider, req))
    return list && list.length > 0 ? Math.floor(Math.min(...list) * SHARE) : 0
  }
}

/** What a job's running time depends on: the prompt and the seed do not change it much. */
function jobKind(provider: string, { request: r }: ProviderRequest): string {
  return [provider, r.model, r.width, r.height, r.resolution, r.ratio, r.seconds, r.fps, r.steps, r.generate_audio, r.output_format].join('\0')
}
