import { afterEach, describe, expect, it } from 'vitest'
import { EvaluatorPool } from './pool.js'

const pools: EvaluatorPool[] = []
const pool = (opts: ConstructorParameters<typeof EvaluatorPool>[0] = {}) => {
  const p = new EvaluatorPool(opts)
  pools.push(p)
  return p
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()))
})

const counter = `const g = globalThis; g.n = (g.n ?? 0) + 1; export default { n: g.n }\n`

describe('EvaluatorPool', () => {
  it('replaces a worker after its job limit, so nothing an evaluation loaded outlives it', async () => {
    const p = pool({ size: 1, maxJobsPerWorker: 3 })
    const seen: unknown[] = []
    for (let i = 0; i < 7; i++) seen.push((await p.evaluate(counter, 'c.mjs', { timeoutMs: 5000 })).value)
    expect(seen).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 1 }, { n: 2 }, { n: 3 }, { n: 1 }])
  })

  it('replaces a worker whose heap grew past the limit', async () => {
    const p = pool({ size: 1, maxHeapBytes: 16 * 1024 * 1024 })
    const heavy = `globalThis.keep = Array.from({ length: 2_000_000 }, (_, i) => ({ i }))\n${counter}`
    expect((await p.evaluate(heavy, 'h.mjs', { timeoutMs: 10_000 })).value).toEqual({ n: 1 })
    expect((await p.evaluate(counter, 'c.mjs', { timeoutMs: 5000 })).value).toEqual({ n: 1 })
  })

  it('keeps the calling thread free while a spec loops, and stops the loop on abort', async () => {
    const p = pool({ size: 1 })
    const controller = new AbortController()
    const running = p.evaluate('while (true) {}', 'loop.mjs', { timeoutMs: 600_000, signal: controller.signal })
    // This timer can only fire if the loop runs elsewhere.
    await new Promise((r) => setTimeout(r, 50))
    controller.abort(new Error('stop now'))
    await expect(running).rejects.toThrow('stop now')
    expect(p.workers).toBe(0)
    // The pool goes on with a new worker.
    expect((await p.evaluate(counter, 'c.mjs', { timeoutMs: 5000 })).value).toEqual({ n: 1 })
  })

  it.each([
    ['a loop', 'while (true) {}', 'timeout'],
    ['an interval', 'setInterval(() => {}, 10)\nexport default {}', 'kept-alive'],
    ['a promise that never settles', 'await new Promise(() => {})', 'never-settled'],
    ['a throw', "throw new Error('now')", 'threw'],
    ['a rejection nobody handles', "void Promise.reject(new Error('later'))\nexport default {}", 'threw-later'],
    ['a throwing timer', "setTimeout(() => { throw new Error('later') }, 1)\nexport default {}", 'threw-later'],
    ['process.exit', 'process.exit(7)', 'exited'],
  ])('reports %s as that evaluation\'s failure', async (_what, code, reason) => {
    const p = pool({ size: 1 })
    const outcome = await p.evaluate(code, 'x.mjs', { timeoutMs: 400 })
    expect(outcome.error?.reason).toBe(reason)
    // The next evaluation is unaffected.
    expect((await p.evaluate(counter, 'c.mjs', { timeoutMs: 5000 })).value).toEqual({ n: 1 })
  })

  it('evaluates in parallel up to its size, and a spec sees the environment as it is now', async () => {
    const p = pool({ size: 2 })
    process.env.VIDSPEC_POOL_TEST = 'current'
    try {
      const results = await Promise.all(
        Array.from({ length: 6 }, () => p.evaluate('export default { v: process.env.VIDSPEC_POOL_TEST }', 'e.mjs', { timeoutMs: 5000 })),
      )
      expect(results.map((r) => r.value)).toEqual(Array(6).fill({ v: 'current' }))
      expect(p.workers).toBeLessThanOrEqual(2)
    } finally {
      delete process.env.VIDSPEC_POOL_TEST
    }
  })
})
