/**
 * In-process exclusion per lock path, in front of the lock file: within one process only one caller
 * at a time touches a given lock file, so two Store instances (or two builds) in the same process
 * wait in line instead of racing each other over the file.
 */
interface Slot {
  waiters: Array<() => void>
}

const slots = new Map<string, Slot>()

export function tryAcquire(path: string): boolean {
  if (slots.has(path)) return false
  slots.set(path, { waiters: [] })
  return true
}

/** Resolves once `path` is ours; rejects with the signal's reason if it aborts first. */
export function acquire(path: string, signal?: AbortSignal, onWait?: () => void): Promise<void> {
  if (tryAcquire(path)) return Promise.resolve()
  const slot = slots.get(path) as Slot
  onWait?.()
  return new Promise<void>((resolve, reject) => {
    const grant = (): void => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }
    const onAbort = (): void => {
      const i = slot.waiters.indexOf(grant)
      if (i >= 0) slot.waiters.splice(i, 1)
      reject(signal?.reason)
    }
    slot.waiters.push(grant)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** Hands `path` straight to the next waiter, if any. */
export function release(path: string): void {
  const slot = slots.get(path)
  if (!slot) return
  const next = slot.waiters.shift()
  if (next) next()
  else slots.delete(path)
}
