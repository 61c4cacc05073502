import { describe, expect, it } from 'vitest'
import { slotGaps } from './slot-gaps.js'

const poll = (id: string, at: number) => ({ route: 'GET /videos/:id', path: `/v2/videos/${id}`, at })

describe('slotGaps', () => {
  it('splits the idle time of one slot into polls seeing jobs late and the way to the next create', () => {
    const jobs = [
      { id: 'a', createdAt: 0, durationMs: 100 },
      { id: 'b', createdAt: 112, durationMs: 100 },
      { id: 'c', createdAt: 220, durationMs: 100 },
    ]
    const log = [
      { route: 'POST /videos', path: '/v2/videos', at: 0 },
      poll('a', 90),
      poll('a', 105),
      { route: 'GET /files/:file', path: '/files/a.mp4', at: 108 },
      poll('b', 205),
      poll('b', 215),
      poll('c', 330),
    ]
    // Seen late by 5, 3 and 10 ms; from the poll that saw a slot free to the create taking it: 7 and 5 ms.
    expect(slotGaps(jobs, log, 1)).toEqual({ lateMs: 6, seenToCreateMs: 6 })
  })

  it('pairs the k-th job seen done with the create after the first `limit`, and ignores jobs never seen done', () => {
    const jobs = [
      { id: 'a', createdAt: 0, durationMs: 100 },
      { id: 'b', createdAt: 1, durationMs: 100 },
      { id: 'c', createdAt: 104, durationMs: 100 },
      { id: 'd', createdAt: 110, durationMs: 100 },
    ]
    const log = [poll('b', 102), poll('a', 108), poll('c', 150)]
    // b is seen first (102) and c takes its slot (104); a is seen at 108 and d takes it (110).
    expect(slotGaps(jobs, log, 2)).toEqual({ lateMs: 4.5, seenToCreateMs: 2 })
  })
})
