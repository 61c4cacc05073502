import { describe, expect, it } from 'vitest'
import { randomId } from './layout.js'

describe('randomId', () => {
  it('never repeats within a process, even within one millisecond, and names the process', () => {
    const ids = Array.from({ length: 20_000 }, () => randomId())
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids.slice(0, 3)) expect(id.split('-')[1]).toBe(String(process.pid))
  })
})
