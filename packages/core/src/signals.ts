import { setMaxListeners } from 'node:events'

/**
 * Runs `fn` with a signal that follows `signal`, for work that fans one caller's signal out to many
 * concurrent waiters (a build's specs each join a run and listen for abort): Node warns of a leak past
 * ten listeners on one signal, and the caller's own signal (the CLI's, a watcher's) gets one listener,
 * removed when `fn` settles, however many specs there are.
 */
export async function fannedOut<T>(signal: AbortSignal | undefined, fn: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  if (!signal) return fn(undefined)
  const child = new AbortController()
  setMaxListeners(0, child.signal)
  const forward = (): void => child.abort(signal.reason)
  if (signal.aborted) forward()
  else signal.addEventListener('abort', forward, { once: true })
  try {
    return await fn(child.signal)
  } finally {
    signal.removeEventListener('abort', forward)
  }
}
