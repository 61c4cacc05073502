import { describe, expect, it } from 'vitest'
import { Slots } from './slots.js'

describe('Slots', () => {
  it('lets `size` holders in, the next one when a slot is given back, in order', async () => {
    const slots = new Slots(2)
    const a = await slots.take()
    const b = await slots.take()
    const order: string[] = []
    const c = slots.take().then((r) => (order.push('c'), r))
    const d = slots.take().then((r) => (order.push('d'), r))
    await new Promise((r) => setTimeout(r, 5))
    expect(order).toEqual([])
    a()
    a() // a second release is a no-op, not a second slot
    const releaseC = await c
    await new Promise((r) => setTimeout(r, 5))
    expect(order).toEqual(['c'])
    expect(slots.used).toBe(2)
    b()
    ;(await d)()
    releaseC()
    expect(slots.used).toBe(0)
  })

  it('drops a waiter whose signal aborts, without losing a slot', async () => {
    const slots = new Slots(1)
    const held = await slots.take()
    const controller = new AbortController()
    const waiting = slots.take(controller.signal)
    controller.abort(new Error('superseded'))
    await expect(waiting).rejects.toThrow('superseded')
    held()
    expect(slots.used).toBe(0)
    ;(await slots.take())()
  })
})
