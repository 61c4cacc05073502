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
})
