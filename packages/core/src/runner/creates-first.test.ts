import { describe, expect, it } from 'vitest'
import { CreatesFirst } from './creates-first.js'

/** Lets every callback already due run, timers aside (a few turns of the event loop). */
async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/** Whether `p` has settled, looked at after a few turns. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false
  void p.then(() => (done = true))
  await turns()
  return done
}

describe('CreatesFirst', () => {
  it('lets a download go at once when no create is on its way', async () => {
    const gate = new CreatesFirst(60_000)
    expect(await settled(gate.yieldTo())).toBe(true)
  })

  it('holds a download until every create on its way is answered', async () => {
    const gate = new CreatesFirst(60_000)
    const a = gate.begin()
    const b = gate.begin()
    const waiting = gate.yieldTo()
    expect(await settled(waiting)).toBe(false)
    a()
    a() // a second end is a no-op, not another create answered
    expect(gate.pending).toBe(1)
    expect(await settled(waiting)).toBe(false)
    b()
    expect(await settled(waiting)).toBe(true)
    expect(gate.pending).toBe(0)
  })

  it('sees a create begun in the same turn as the call: the run a released slot passes to', async () => {
    const gate = new CreatesFirst(60_000)
    const waiting = gate.yieldTo()
    // The slot's next holder resumes a few promise reactions after the release.
    const end = await Promise.resolve().then(() => Promise.resolve()).then(() => gate.begin())
    expect(await settled(waiting)).toBe(false)
    end()
    expect(await settled(waiting)).toBe(true)
  })

  it('waits no longer than its bound for a create that is slow to answer', async () => {
    const gate = new CreatesFirst(30)
    gate.begin()
    const waiting = gate.yieldTo()
    expect(await settled(waiting)).toBe(false)
    await waiting
    expect(gate.pending).toBe(1)
  })

  it('lets a download go when its signal aborts, before or while it waits', async () => {
    const gate = new CreatesFirst(60_000)
    gate.begin()
    const controller = new AbortController()
    const waiting = gate.yieldTo(controller.signal)
    expect(await settled(waiting)).toBe(false)
    controller.abort()
    expect(await settled(waiting)).toBe(true)
    expect(await settled(gate.yieldTo(controller.signal))).toBe(true)
  })
})
