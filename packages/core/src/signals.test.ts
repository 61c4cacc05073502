import { describe, expect, it } from 'vitest'
import { fannedOut } from './signals.js'

describe('fannedOut', () => {
  it('gives many waiters one signal that follows the caller’s, which keeps one listener only while the work runs', async () => {
    const caller = new AbortController()
    const warnings: Error[] = []
    const onWarning = (w: Error) => warnings.push(w)
    process.on('warning', onWarning)
    try {
      let inner: AbortSignal | undefined
      const work = fannedOut(caller.signal, async (signal) => {
        inner = signal
        const waits = Array.from({ length: 50 }, () => new Promise<unknown>((resolve) => signal?.addEventListener('abort', () => resolve(signal.reason))))
        caller.abort(new Error('stop'))
        return Promise.all(waits)
      })
      const reasons = await work
      expect(reasons).toHaveLength(50)
      expect(reasons.every((r) => (r as Error).message === 'stop')).toBe(true)
      expect(inner?.aborted).toBe(true)
      await new Promise((r) => setImmediate(r))
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('starts aborted when the caller already was, and passes undefined through', async () => {
    const caller = new AbortController()
    caller.abort()
    expect(await fannedOut(caller.signal, async (s) => s?.aborted)).toBe(true)
    expect(await fannedOut(undefined, async (s) => s)).toBeUndefined()
  })
})
