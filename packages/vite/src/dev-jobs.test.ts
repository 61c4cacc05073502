import { VidspecError } from '@vidspec/core'
import { describe, expect, it } from 'vitest'
import { DevJobs } from './dev-jobs.js'

interface Call {
  key: string
  signal: AbortSignal
  resolve(value: string): void
  reject(err: Error): void
}

/** Jobs whose runs the test finishes by hand; an aborted run rejects as the core runner does. */
function harness(paid: boolean) {
  const calls: Call[] = []
  const done: Array<{ key: string; specs: string[]; result: string }> = []
  const failed: Array<{ key: string; specs: string[]; error: Error }> = []
  const jobs = new DevJobs<string, string>({
    paid,
    run: (key, _spec, signal) =>
      new Promise<string>((resolve, reject) => {
        calls.push({ key, signal, resolve, reject })
        signal.addEventListener('abort', () => reject(new VidspecError('ABORTED', `${key} cancelled`)))
      }),
    onDone: (key, specs, result) => done.push({ key, specs, result }),
    onFailed: (key, specs, error) => failed.push({ key, specs, error }),
  })
  return { jobs, calls, done, failed }
}

const tick = () => new Promise((r) => setTimeout(r, 0))

describe('DevJobs', () => {
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
})
