/**
 * A paid job seen done hands its provider slot to the next run at once, and then downloads its
 * result. The two contend for this thread: the next run's lock, durable intent and create request,
 * each a round trip that waits for this thread to come back to it, against the download's requests,
 * writes, hashing and commit. The create is what keeps the provider working; the download loses
 * nothing by starting a few milliseconds later. So a finished job's download waits until the runs
 * that took slots have had their creates answered (200 paid jobs of 100 ms, 8 at a time: from the
 * poll that saw a job done to the next create ~12 → ~8 ms), never longer than `maxWaitMs`: a create
 * may be slow to answer, or retried after a refusal.
 */
export class CreatesFirst {
  readonly #maxWaitMs: number
  #pending = 0
  readonly #waiting = new Set<() => void>()

  constructor(maxWaitMs: number) {
    this.#maxWaitMs = maxWaitMs
  }

  /** A run is on its way to its create; the returned function says it was answered, or will make none (once). */
  begin(): () => void {
    this.#pending++
    let open = true
    return () => {
      if (!open) return
      open = false
      if (--this.#pending > 0) return
      for (const resume of [...this.#waiting]) resume()
    }
  }

  /** Runs on their way to a create. */
  get pending(): number {
    return this.#pending
  }

  /**
   * Resolves once no run is on its way to a create, at most `maxWaitMs` later, or when `signal`
   * aborts. Looked at a turn after the call: the run a released slot passes to resumes only then.
   */
  async yieldTo(signal?: AbortSignal): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve))
    if (this.#pending === 0 || signal?.aborted) return
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        this.#waiting.delete(done)
        resolve()
      }
      const timer = setTimeout(done, this.#maxWaitMs)
      signal?.addEventListener('abort', done, { once: true })
      this.#waiting.add(done)
    })
  }
}
