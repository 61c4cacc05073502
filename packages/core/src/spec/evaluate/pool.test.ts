import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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

  describe('an import-free bundle, run as a script', () => {
    /** `body`, then the export clause esbuild ends an ESM bundle with. */
    const esbuilt = (body: string, exports: string) => `${body}\nexport {\n  ${exports}\n};\n`
    const importFree = { timeoutMs: 5000, importFree: true }

    it("keeps what a module's code can observe: strict mode, no `this`, top-level await, every export", async () => {
      const code = esbuilt(
        [
          'var self = typeof this;',
          'var strict = (() => { try { undeclaredByTheSpec = 1; return false } catch { return true } })();',
          'var later = await new Promise((r) => setTimeout(() => r(5), 5));',
          'var spec_default = { self, strict, later };',
        ].join('\n'),
        'spec_default as default,\n  later',
      )
      const asScript = await pool().evaluate(code, 's.mjs', importFree)
      const asModule = await pool().evaluate(code, 's.mjs', { timeoutMs: 5000 })
      expect([asScript.form, asModule.form]).toEqual(['script', 'module'])
      expect(asScript.value).toEqual({ self: 'undefined', strict: true, later: 5 })
      expect(asScript.value).toEqual(asModule.value)
      expect(asScript.hasDefault).toBe(true)
      expect('undeclaredByTheSpec' in globalThis).toBe(false)
    })

    it('names the line and column a module would in the stack of a throw', async () => {
      const code = esbuilt("var a = 1;\nvar b = 2;\nif (a < b) throw new Error('here');", 'a as default')
      const where = (stack: string | undefined) => /\.mjs:(\d+:\d+)/.exec(stack ?? '')?.[1]
      const asScript = await pool().evaluate(code, 't.mjs', importFree)
      const asModule = await pool().evaluate(code, 't.mjs', { timeoutMs: 5000 })
      expect([asScript.form, asModule.form]).toEqual(['script', 'module'])
      expect(asScript.error?.reason).toBe('threw')
      expect(where(asScript.error?.stack)).toBe('3:18')
      expect(where(asScript.error?.stack)).toBe(where(asModule.error?.stack))
      expect(asScript.error?.stack).toContain(asScript.error?.bundleUrl)
    })

    it('tells a top-level await that can never settle, as a module would', async () => {
      const outcome = await pool().evaluate(esbuilt('await new Promise(() => {});\nvar a = 1;', 'a as default'), 'n.mjs', importFree)
      expect(outcome.error?.reason).toBe('never-settled')
    })

    it.each([
      ['reads import.meta', esbuilt('var u = import.meta.url;', 'u as default'), { hasDefault: true }],
      ['has no export clause', 'var a = 1;\n', { hasDefault: false }],
      ['exports under a quoted name', esbuilt('var a = 1;', 'a as "not an identifier"'), { hasDefault: false }],
    ])('imports a bundle that %s as a module', async (_what, code, expected) => {
      const outcome = await pool().evaluate(code, 'm.mjs', importFree)
      expect(outcome.error).toBeUndefined()
      expect(outcome.form).toBe('module')
      expect(outcome.hasDefault).toBe(expected.hasDefault)
    })
  })

  describe('with jobs waiting in a worker behind the running one', () => {
    const dirs: string[] = []
    afterEach(() => {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
    })
    /** A job that says it ran by appending its name to `log`, then gives its name. */
    const logged = (log: string, name: string, body = '') =>
      `import { appendFileSync } from 'node:fs'\nappendFileSync(${JSON.stringify(log)}, ${JSON.stringify(`${name}\n`)})\n${body}\nexport default { name: ${JSON.stringify(name)} }\n`
    const newLog = () => {
      const dir = mkdtempSync(join(tmpdir(), 'vidspec-pool-test-'))
      dirs.push(dir)
      return join(dir, 'ran.log')
    }
    const ran = (log: string) => readFileSync(log, 'utf8').split('\n').filter(Boolean)

    it('hands the waiting jobs of a worker that failed to another, and each runs exactly once', async () => {
      const p = pool({ size: 1 })
      const log = newLog()
      const names = ['a', 'b', 'c', 'd', 'e', 'f']
      const outcomes = await Promise.all([
        p.evaluate(logged(log, 'first'), 'first.mjs', { timeoutMs: 5000 }),
        p.evaluate(`${logged(log, 'thrower')}\nthrow new Error('no')`, 'thrower.mjs', { timeoutMs: 5000 }),
        p.evaluate(logged(log, 'never', 'await new Promise(() => {})'), 'never.mjs', { timeoutMs: 5000 }),
        p.evaluate(logged(log, 'looper', 'while (true) {}'), 'looper.mjs', { timeoutMs: 300 }),
        ...names.map((n) => p.evaluate(logged(log, n), `${n}.mjs`, { timeoutMs: 5000 })),
      ])
      expect(outcomes.map((o) => o.error?.reason ?? o.value)).toEqual([{ name: 'first' }, 'threw', 'never-settled', 'timeout', ...names.map((name) => ({ name }))])
      expect(ran(log).sort()).toEqual(['first', 'thrower', 'never', 'looper', ...names].sort())
    })

    it('starts nothing after a failed job in its worker, even while the pool is too busy to hear of the failure', async () => {
      const p = pool({ size: 1 })
      const log = newLog()
      // A worker online, so the next jobs are sent at once.
      await p.evaluate(counter, 'c.mjs', { timeoutMs: 5000 })
      const outcomes = Promise.all([
        p.evaluate(`${logged(log, 'thrower')}\nthrow new Error('no')`, 'thrower.mjs', { timeoutMs: 5000 }),
        p.evaluate(logged(log, 'next'), 'next.mjs', { timeoutMs: 5000 }),
      ])
      // This thread is busy while the worker fails the first job: the worker alone must not start the next.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400)
      expect((await outcomes).map((o) => o.error?.reason ?? o.value)).toEqual(['threw', { name: 'next' }])
      expect(ran(log)).toEqual(['thrower', 'next'])
    })

    it('removes the file of a waiting job that the worker had started on its own when the pool stops it', async () => {
      const p = pool({ size: 1 })
      const log = newLog()
      const tag = `leak-${process.pid}-${Date.now()}`
      const ours = () => readdirSync(tmpdir()).filter((n) => n.includes(tag))
      // A worker online, so the next jobs are sent at once.
      await p.evaluate(counter, 'c.mjs', { timeoutMs: 5000 })
      const controller = new AbortController()
      const opts = { timeoutMs: 600_000, signal: controller.signal }
      const jobs = [p.evaluate(logged(log, 'first'), `${tag}-first.mjs`, opts), p.evaluate(logged(log, 'second', 'while (true) {}'), `${tag}-second.mjs`, opts)]
      // This thread is blocked while the worker ends the first job and starts (writes) the second.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400)
      controller.abort(new Error('stop now'))
      for (const job of jobs) await job.catch(() => undefined)
      expect(ran(log)).toEqual(['first', 'second'])
      await p.close()
      expect(ours()).toEqual([])
    })

    it("counts a waiting job's time from when it starts, not from when it was sent", async () => {
      const p = pool({ size: 1 })
      const busy = (ms: number) => `const until = Date.now() + ${ms}\nwhile (Date.now() < until) {}\nexport default { ms: ${ms} }\n`
      // Each fits its own limit; the three together would not.
      const outcomes = await Promise.all([250, 250, 250].map((ms, i) => p.evaluate(busy(ms), `busy-${i}.mjs`, { timeoutMs: 600 })))
      expect(outcomes.map((o) => o.error?.reason ?? o.value)).toEqual([{ ms: 250 }, { ms: 250 }, { ms: 250 }])
    })

    it('starts nothing more in a worker whose heap grew past the limit', async () => {
      const p = pool({ size: 1, maxHeapBytes: 16 * 1024 * 1024 })
      const heavy = `globalThis.keep = Array.from({ length: 2_000_000 }, (_, i) => ({ i }))\n${counter}`
      const outcomes = await Promise.all([p.evaluate(heavy, 'h.mjs', { timeoutMs: 10_000 }), p.evaluate(counter, 'c.mjs', { timeoutMs: 5000 }), p.evaluate(counter, 'c.mjs', { timeoutMs: 5000 })])
      expect(outcomes.map((o) => o.value)).toEqual([{ n: 1 }, { n: 1 }, { n: 2 }])
    })

    it('rejects the waiting jobs of an aborted evaluation without running them', async () => {
      const p = pool({ size: 1 })
      const log = newLog()
      const controller = new AbortController()
      const opts = { timeoutMs: 600_000, signal: controller.signal }
      const running = [p.evaluate(logged(log, 'loop', 'while (true) {}'), 'loop.mjs', opts), ...['x', 'y'].map((n) => p.evaluate(logged(log, n), `${n}.mjs`, opts))]
      await new Promise((r) => setTimeout(r, 100))
      controller.abort(new Error('stop now'))
      for (const r of running) await expect(r).rejects.toThrow('stop now')
      expect(ran(log)).toEqual(['loop'])
      expect(p.workers).toBe(0)
    })
  })
})
