import { VidspecError, isVidspecError } from '../errors.js'

export interface RetryPolicy {
  retries: number
  minDelayMs: number
  maxDelayMs: number
}

/** The server's retry-after is honoured, but never beyond this: a broken header must not hang a build. */
const MAX_SERVER_DELAY_MS = 5 * 60_000

/** Exponential backoff with jitter (half fixed, half random), so parallel runners spread out. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** attempt)
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}

export function retryDelay(err: unknown, attempt: number, policy: RetryPolicy): number {
  if (isVidspecError(err) && err.retryAfterMs !== undefined) {
    return Math.min(Math.max(err.retryAfterMs, 0), MAX_SERVER_DELAY_MS)
  }
  return backoffDelay(attempt, policy)
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal))
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(abortError(signal))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export function abortError(signal?: AbortSignal): VidspecError {
  if (isVidspecError(signal?.reason)) return signal.reason
  return new VidspecError('ABORTED', 'cancelled', { cause: signal?.reason })
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal)
}

/**
 * Runs `fn` until it succeeds, a non-retryable error occurs, or the retries run out. Only errors that
 * say `retryable` are tried again: for a create that means the request provably started no job.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  opts: { signal?: AbortSignal | undefined; onRetry?: (err: unknown, attempt: number, delayMs: number) => void } = {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(opts.signal)
    try {
      return await fn(attempt)
    } catch (err) {
      if (opts.signal?.aborted) throw abortError(opts.signal)
      if (!isVidspecError(err) || !err.retryable || attempt >= policy.retries) throw err
      const delay = retryDelay(err, attempt, policy)
      opts.onRetry?.(err, attempt + 1, delay)
      await sleep(delay, opts.signal)
    }
  }
}
