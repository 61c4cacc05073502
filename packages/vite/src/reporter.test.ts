import type { Logger } from 'vite'
import { describe, expect, it } from 'vitest'
import { Reporter } from './reporter.js'

function fakeLogger(): Logger & { calls: Array<[string, boolean | undefined]> } {
  const calls: Array<[string, boolean | undefined]> = []
  const log = (msg: string, opts?: { timestamp?: boolean }) => void calls.push([msg, opts?.timestamp])
  return { calls, info: log, warn: log, warnOnce: log, error: log, clearScreen() {}, hasErrorLogged: () => false, hasWarned: false }
}

describe('Reporter', () => {
  it('stamps its lines with the time in the dev server only, as Vite does its own (a build pays ~20 ms for the first)', () => {
    const dev = fakeLogger()
    const serve = new Reporter()
    serve.attach(dev, { timestamps: true })
    serve.warn('a warning')
    const built = fakeLogger()
    const build = new Reporter()
    build.attach(built, { timestamps: false })
    build.warn('a warning')
    expect(dev.calls).toEqual([['[vidspec] a warning', true]])
    expect(built.calls).toEqual([['[vidspec] a warning', false]])
  })

  it("shows a job's progress when it starts and when its status changes, and a new job after a failure from its start", () => {
    const vite = fakeLogger()
    const reporter = new Reporter()
    reporter.attach(vite, { timestamps: false })
    const progress = (status: string, elapsedMs: number) => reporter.event({ type: 'job:progress', spec: 'a.video.ts', key: 'k', status, elapsedMs })
    for (let i = 0; i < 6; i++) progress(i < 3 ? 'queued' : 'in_progress', i * 1000)
    reporter.event({ type: 'spec:failed', spec: 'a.video.ts', key: 'k', error: new Error('boom') })
    // The next job (a save in the dev server) starts with a line, even in the same status.
    progress('in_progress', 0)
    expect(vite.calls.map(([msg]) => msg)).toEqual([
      '[vidspec] a.video.ts: queued (0 s)',
      '[vidspec] a.video.ts: in progress (3 s)',
      '[vidspec] a.video.ts: boom',
      '[vidspec] a.video.ts: in progress (0 s)',
    ])
  })
})
