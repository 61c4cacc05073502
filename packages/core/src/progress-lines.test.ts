import { describe, expect, it } from 'vitest'
import { ProgressLines } from './progress-lines.js'

describe('progress lines', () => {
  it('shows a job first, on each change of status, and then once per interval', () => {
    let now = 0
    const lines = new ProgressLines({ everyMs: 10_000, now: () => now })
    const shown: string[] = []
    const poll = (spec: string, status: string) => lines.due(spec, status) && shown.push(`${now} ${spec} ${status}`)
    for (; now < 25_000; now += 2_000) poll('a', now < 6_000 ? 'queued' : 'in_progress')
    poll('b', 'queued')
    expect(shown).toEqual(['0 a queued', '6000 a in_progress', '16000 a in_progress', '26000 b queued'])
  })

  it('starts again after forget', () => {
    const lines = new ProgressLines({ now: () => 0 })
    expect(lines.due('a', 'queued')).toBe(true)
    expect(lines.due('a', 'queued')).toBe(false)
    lines.forget('a')
    expect(lines.due('a', 'queued')).toBe(true)
  })
})
