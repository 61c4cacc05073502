import { describe, expect, it } from 'vitest'
import { VidspecError } from '../errors.js'
import { Flight } from './flight.js'

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms))

/** A run that finishes when told to, or, when cancelled, unwinds for a while and then fails ABORTED. */
function controllable() {
  const state = { cancelled: false, unwound: false, finish: (_v: string) => {} }
  const start = (signal: AbortSignal) =>
    new Promise<string>((resolve, reject) => {
      state.finish = resolve
      signal.addEventListener('abort', () => {
        state.cancelled = true
        setTimeout(() => {
          state.unwound = true
          reject(new VidspecError('ABORTED', 'run cancelled'))
        }, 30)
      })
    })
  return { state, flight: new Flight(start) }
}

const outcome = <T>(p: Promise<T>) => p.then((value) => ({ value }), (error: VidspecError) => ({ error }))

describe('Flight', () => {
  it("one caller giving up does not cancel the run another caller waits for", async () => {
    const { state, flight } = controllable()
    const quitter = new AbortController()
    const a = outcome(flight.join(quitter.signal))
    const b = flight.join(new AbortController().signal)
    quitter.abort()
    expect(await a).toMatchObject({ error: { code: 'ABORTED' } })
    expect(state.cancelled).toBe(false)
    state.finish('clip')
    expect(await b).toBe('clip')
  })

  it('the last caller to give up cancels the run and hears back only once it has unwound', async () => {
    const { state, flight } = controllable()
    const one = new AbortController()
    const two = new AbortController()
    const a = outcome(flight.join(one.signal))
    const b = outcome(flight.join(two.signal))
    one.abort()
    await a
    expect(state.cancelled).toBe(false)
    two.abort(new VidspecError('ABORTED', 'interrupted by SIGINT'))
    expect(flight.cancelled).toBe(true)
    expect(await b).toMatchObject({ error: { code: 'ABORTED', message: 'run cancelled' } })
    expect(state.unwound).toBe(true)
  })

  it('a caller without a signal keeps the run going whoever else leaves', async () => {
    const { state, flight } = controllable()
    const keeper = flight.join()
    const quitter = new AbortController()
    const a = outcome(flight.join(quitter.signal))
    quitter.abort()
    await a
    await tick()
    expect(state.cancelled).toBe(false)
    state.finish('clip')
    expect(await keeper).toBe('clip')
  })

  it('a caller arriving with an aborted signal, alone, cancels at once', async () => {
    const { state, flight } = controllable()
    expect(await outcome(flight.join(AbortSignal.abort()))).toMatchObject({ error: { code: 'ABORTED' } })
    expect(state.unwound).toBe(true)
  })

  it('a run that finishes despite the cancel still hands its result to the last caller', async () => {
    const flight = new Flight(async () => {
      await tick(20)
      return 'stored anyway'
    })
    const ctl = new AbortController()
    const p = flight.join(ctl.signal)
    ctl.abort()
    expect(await p).toBe('stored anyway')
  })
})
