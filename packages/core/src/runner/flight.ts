import { abortError } from './retry.js'

/**
 * One run shared by every caller that wants the same key, each with its own AbortSignal. The run is
 * cancelled only once every caller has given up: one caller's Ctrl-C (or a closed dev request) must
 * not cancel a clip another caller still waits for.
 */
export class Flight<T> {
  readonly promise: Promise<T>
  readonly #controller = new AbortController()
  #waiters = 0

  constructor(start: (signal: AbortSignal) => Promise<T>) {
    this.promise = start(this.#controller.signal)
    // Callers get the outcome through join(); this only keeps an early failure from going unobserved.
    this.promise.catch(() => {})
  }

  /** True once every caller left: a new caller must start a new run. */
  get cancelled(): boolean {
    return this.#controller.signal.aborted
  }

  /** Stops the run for every caller (the runner only allows it before paid work starts). */
  cancel(reason: unknown): void {
    this.#controller.abort(reason)
  }

  join(signal?: AbortSignal): Promise<T> {
    this.#waiters++
    // A caller that cannot cancel keeps the run alive for good.
    if (!signal) return this.promise
    return new Promise<T>((resolve, reject) => {
      const settle = (fn: () => void) => {
        signal.removeEventListener('abort', leave)
        fn()
      }
      const leave = (): void => {
        this.#waiters--
        if (this.#waiters > 0) return settle(() => reject(abortError(signal)))
        // The last caller out cancels the run, and answers once it has unwound (lock released, temp
        // file removed, journal kept), so a caller never sees "cancelled" while work is still stopping.
        signal.removeEventListener('abort', leave)
        this.#controller.abort(signal.reason)
      }
      this.promise.then(
        (value) => settle(() => resolve(value)),
        (err: unknown) => settle(() => reject(err)),
      )
      if (signal.aborted) leave()
      else signal.addEventListener('abort', leave, { once: true })
    })
  }
}
