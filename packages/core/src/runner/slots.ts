/**
 * A counting semaphore whose slot can be handed back before the work that took it is over: a paid
 * job holds a provider slot while the provider works on it, not while its result downloads.
 */
export class Slots {
  readonly #size: number
  #used = 0
  readonly #waiting: Array<() => void> = []

  constructor(size: number) {
    this.#size = Math.max(1, size)
  }

  /** Waits for a slot; the returned function gives it back (calling it again does nothing). */
  async take(signal?: AbortSignal): Promise<() => void> {
    if (this.#used < this.#size) {
      this.#used++
    } else {
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        }
        const onAbort = () => {
          const i = this.#waiting.indexOf(grant)
          if (i >= 0) this.#waiting.splice(i, 1)
          reject(signal?.reason)
        }
        this.#waiting.push(grant)
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    }
    let held = true
    return () => {
      if (!held) return
      held = false
      const next = this.#waiting.shift()
      // The slot passes straight to the next waiter, so `#used` stays as it is.
      if (next) next()
      else this.#used--
    }
  }

  get used(): number {
    return this.#used
  }
}
