import { VidspecError } from '../errors.js'
import { describe, expect, it, vi } from 'vitest'
import { Supersession, type SupersessionOptions } from './supersession.js'

interface Call {
  key: string
  signal: AbortSignal
  resolve(value: string): void
  reject(err: Error): void
}

/** Jobs whose runs the test finishes by hand; an aborted run rejects as the core runner does. */
function harness(paid: boolean, extra: Partial<SupersessionOptions<string, string>> = {}) {
  const calls: Call[] = []
  const done: Array<{ key: string; specs: string[]; result: string }> = []
  const failed: Array<{ key: string; specs: string[]; error: Error }> = []
  const jobs = new Supersession<string, string>({
    paid,
    run: (key, _spec, signal) =>
      new Promise<string>((resolve, reject) => {
        calls.push({ key, signal, resolve, reject })
        signal.addEventListener('abort', () => reject(new VidspecError('ABORTED', `${key} cancelled`)))
      }),
    onDone: (key, specs, result) => done.push({ key, specs, result }),
    onFailed: (key, specs, error) => failed.push({ key, specs, error }),
    ...extra,
  })
  return { jobs, calls, done, failed }
}

const tick = () => new Promise((r) => setTimeout(r, 0))

describe('Supersession', () => {
  it('starts one job per key, however many times and by however many specs it is wanted', async () => {
    const { jobs, calls, done } = harness(true)
    jobs.want('a.video.ts', 'k1', 'spec a')
    jobs.want('a.video.ts', 'k1', 'spec a')
    jobs.want('b.video.ts', 'k1', 'spec b')
    await tick()
    expect(calls.map((c) => c.key)).toEqual(['k1'])
    calls[0]?.resolve('clip')
    await tick()
    expect(done).toEqual([{ key: 'k1', specs: ['a.video.ts', 'b.video.ts'], result: 'clip' }])
    expect(jobs.isRunning('k1')).toBe(false)
  })

  it('starts nothing for a key whose clip is already there', async () => {
    const { jobs, calls } = harness(true)
    jobs.want('a.video.ts', 'k1')
    await tick()
    expect(calls).toEqual([])
  })

  it('cancels a job not yet started when an edit re-keys its spec', async () => {
    const { jobs, calls, done, failed } = harness(true)
    jobs.want('a.video.ts', 'k1', 'v1')
    await tick()
    jobs.want('a.video.ts', 'k2', 'v2')
    await tick()
    expect(calls.map((c) => [c.key, c.signal.aborted])).toEqual([
      ['k1', true],
      ['k2', false],
    ])
    calls[1]?.resolve('clip 2')
    await tick()
    expect(done.map((d) => d.key)).toEqual(['k2'])
    expect(failed).toEqual([])
  })

  it('finishes and keeps a paid job that has started, even once nobody wants it', async () => {
    const { jobs, calls, done } = harness(true)
    jobs.want('a.video.ts', 'k1', 'v1')
    await tick()
    jobs.started('k1')
    jobs.want('a.video.ts', 'k2', 'v2')
    await tick()
    expect(calls[0]?.signal.aborted).toBe(false)
    calls[0]?.resolve('clip 1')
    await tick()
    // Reported (so the store keeps it and a spec may come back to it), but no spec is updated.
    expect(done).toEqual([{ key: 'k1', specs: [], result: 'clip 1' }])
  })

  it('cancels a started job of a free (local) provider when superseded', async () => {
    const { jobs, calls } = harness(false)
    jobs.want('a.video.ts', 'k1', 'v1')
    await tick()
    jobs.started('k1')
    jobs.want('a.video.ts', 'k2', 'v2')
    expect(calls[0]?.signal.aborted).toBe(true)
  })

  it('keeps a job another spec still wants', async () => {
    const { jobs, calls } = harness(true)
    jobs.want('a.video.ts', 'k1', 'a')
    jobs.want('b.video.ts', 'k1', 'b')
    await tick()
    jobs.want('a.video.ts', 'k2', 'a2')
    expect(calls[0]?.signal.aborted).toBe(false)
    jobs.drop('b.video.ts')
    expect(calls[0]?.signal.aborted).toBe(true)
  })

  it('starts a key again after its cancelled job has let go, when an edit is undone', async () => {
    const { jobs, calls, done } = harness(true)
    jobs.want('a.video.ts', 'k1', 'v1')
    await tick()
    jobs.want('a.video.ts', 'k2', 'v2')
    jobs.want('a.video.ts', 'k1', 'v1')
    await tick()
    await tick()
    // k2 was cancelled before it reached the runner at all.
    expect(calls.map((c) => [c.key, c.signal.aborted])).toEqual([
      ['k1', true],
      ['k1', false],
    ])
    calls[1]?.resolve('clip 1')
    await tick()
    expect(done).toEqual([{ key: 'k1', specs: ['a.video.ts'], result: 'clip 1' }])
  })

  it('reports a failure to the specs that want the key, and tries again when asked again', async () => {
    const { jobs, calls, failed } = harness(true)
    jobs.want('a.video.ts', 'k1', 'v1')
    await tick()
    calls[0]?.reject(new VidspecError('JOB_FAILED', 'the provider said no'))
    await tick()
    expect(failed.map((f) => [f.key, f.specs, f.error.message])).toEqual([['k1', ['a.video.ts'], 'the provider said no']])
    jobs.want('a.video.ts', 'k1', 'v1')
    await tick()
    expect(calls).toHaveLength(2)
  })

  it('aborts everything on close and waits for it to unwind; nothing starts afterwards', async () => {
    const { jobs, calls, failed } = harness(true)
    jobs.want('a.video.ts', 'k1', 'a')
    jobs.want('b.video.ts', 'k2', 'b')
    await tick()
    jobs.started('k1')
    await jobs.close()
    expect(calls.map((c) => c.signal.aborted)).toEqual([true, true])
    expect(failed).toEqual([])
    jobs.want('c.video.ts', 'k3', 'c')
    await tick()
    expect(calls).toHaveLength(2)
  })

  it('a spec deleted while its job is queued stops wanting at once: the job is dropped and named', async () => {
    const dropped: Array<[string, string[]]> = []
    const { jobs, calls, done, failed } = harness(true, { onDropped: (key, specs) => dropped.push([key, specs]) })
    jobs.want('a.video.ts', 'k1', 'v1')
    await tick()
    jobs.drop('a.video.ts')
    expect(calls[0]?.signal.aborted).toBe(true)
    expect(dropped).toEqual([['k1', ['a.video.ts']]])
    await tick()
    expect(done).toEqual([])
    expect(failed).toEqual([])
  })

  it('asks the runner whether a job started, and then never cancels it when paid', async () => {
    const started = new Set<string>()
    const { jobs, calls } = harness(true, { isStarted: (key) => started.has(key) })
    jobs.want('a.video.ts', 'k1', 'v1')
    await tick()
    started.add('k1')
    jobs.drop('a.video.ts')
    expect(calls[0]?.signal.aborted).toBe(false)
  })

  it('with a settle time, a burst of re-keys starts only the key it settles on', async () => {
    vi.useFakeTimers()
    try {
      const { jobs, calls } = harness(true, { settleMs: 200 })
      for (let i = 1; i <= 5; i++) {
        jobs.want('a.video.ts', `k${i}`, `v${i}`)
        await vi.advanceTimersByTimeAsync(50)
      }
      await vi.advanceTimersByTimeAsync(500)
      expect(calls.map((c) => c.key)).toEqual(['k5'])
    } finally {
      vi.useRealTimers()
    }
  })

  it('drops a settled job whose key is no longer wanted on disk, without running it', async () => {
    const dropped: string[] = []
    const { jobs, calls, failed } = harness(true, { stillWanted: async (key) => key !== 'stale', onDropped: (key) => dropped.push(key) })
    jobs.want('a.video.ts', 'stale', 'v1')
    jobs.want('b.video.ts', 'fresh', 'v2')
    await tick()
    await tick()
    expect(calls.map((c) => c.key)).toEqual(['fresh'])
    expect(dropped).toEqual(['stale'])
    expect(failed).toEqual([])
    expect(jobs.isRunning('stale')).toBe(false)
  })
})
