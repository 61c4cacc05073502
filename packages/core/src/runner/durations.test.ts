import { describe, expect, it } from 'vitest'
import type { ProviderRequest } from '../providers/types.js'
import { JobDurations, type PollsSeen } from './durations.js'

const req = (over: Partial<ProviderRequest['request']> = {}): ProviderRequest => ({
  key: 'k',
  spec: 'a.video.ts',
  media: new Map(),
  request: { model: 'minimax/hailuo-02', prompt: 'a harbour', width: 1366, height: 768, seconds: '6', ...over },
})

const done = (doneMs: number): PollsSeen => ({ doneMs })

/**
 * One job that ends `endMs` after its create left, polled as the runner polls it: at each ask, then
 * every interval after an answer that takes `answerMs`.
 */
function pollJob(asks: number[], endMs: number, intervalMs: number, answerMs = 3): { seen: PollsSeen; polls: number } {
  let t = 0
  let runningMs: number | undefined
  let polls = 0
  const left = [...asks]
  for (;;) {
    const at = left.shift()
    t = at === undefined ? t + intervalMs : Math.max(at, t)
    polls++
    if (t >= endMs) return { seen: { doneMs: t, runningMs }, polls }
    runningMs = t
    t += answerMs
  }
}

/** Jobs of one kind one after the other, each learnt from before the next: how late each was seen done, and its polls. */
function runJobs(d: JobDurations, ends: number[], intervalMs: number): { late: number[]; polls: number[] } {
  const late: number[] = []
  const polls: number[] = []
  for (const end of ends) {
    const job = pollJob(d.asks('together', req(), intervalMs), end, intervalMs)
    d.record('together', req(), job.seen)
    late.push(job.seen.doneMs - end)
    polls.push(job.polls)
  }
  return { late, polls }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
/** Ends around `ms`, a few ms apart as a provider's jobs and a busy client's clocks make them. */
const around = (ms: number, n: number, spread = 3) => Array.from({ length: n }, (_, i) => ms + (((i * 5) % (2 * spread + 1)) - spread))

describe('JobDurations', () => {
  it('leaves a new job alone for 80% of the shortest of the last 8 of its kind until a few say how much they vary, and knows nothing before one finished', () => {
    const d = new JobDurations()
    expect(d.asks('together', req(), 50)).toEqual([])
    d.record('together', req(), done(1000))
    expect(d.asks('together', req(), 50)).toEqual([800])
    d.record('together', req({ prompt: 'another prompt', seed: 7 }), done(500))
    expect(d.asks('together', req(), 50)).toEqual([400])
    // Eight slower ones push the fast one out; they vary by 7 ms in all, less than one interval.
    for (let i = 0; i < 8; i++) d.record('together', req(), done(2000 + i))
    expect(d.asks('together', req(), 50)).toEqual([1950])
  })

  it('leaves a job of a kind seen taking alike times alone until one interval, or the gap between one time and the next, before the shortest', () => {
    const d = new JobDurations()
    for (const ms of [1000, 1010, 1005]) d.record('together', req(), done(ms))
    // Alike: the interval is the larger.
    expect(d.asks('together', req(), 20)).toEqual([980])
    // Three times 1,000-1,010 ms apart by 5 ms on average: a 4 ms interval leaves the gap.
    expect(d.asks('together', req(), 4)).toEqual([995])
    // Times that vary widely: the share holds, never less.
    d.record('together', req(), done(3000))
    expect(d.asks('together', req(), 20)).toEqual([800])
  })

  it('asks in the middle and at the end of the span every end seen lies in, once that span is shorter than an interval', () => {
    const d = new JobDurations()
    d.record('together', req(), { runningMs: 990, doneMs: 1010 })
    d.record('together', req(), { runningMs: 995, doneMs: 1012 })
    // Two seen: the share still holds.
    expect(d.asks('together', req(), 20)).toEqual([808])
    d.record('together', req(), { runningMs: 1000, doneMs: 1008 })
    // Running at 1,000 ms, done by 1,008 ms.
    expect(d.asks('together', req(), 20)).toEqual([1004, 1008])
    // A job seen done before another was last seen running (clocks jitter): the span is both ways round.
    d.record('together', req(), { runningMs: 1006, doneMs: 1002 })
    expect(d.asks('together', req(), 20)).toEqual([1004, 1007])
    // One job running long after the others were done: the ends no longer fit one interval.
    d.record('together', req(), { runningMs: 1100, doneMs: 1120 })
    expect(d.asks('together', req(), 20)).toEqual([972])
  })

  it('asks before the span once the last three were all done at their first ask: the kind may have got faster', () => {
    const d = new JobDurations()
    for (const seen of [
      { runningMs: 1000, doneMs: 1008 },
      { runningMs: 1002, doneMs: 1006 },
      { runningMs: 1001, doneMs: 1005 },
    ])
      d.record('together', req(), seen)
    expect(d.asks('together', req(), 20)).toEqual([1003, 1005])
    d.record('together', req(), { doneMs: 1003 })
    d.record('together', req(), { doneMs: 1004 })
    expect(d.asks('together', req(), 20)).toEqual([1002, 1003])
    // A third: one interval before the shortest, where a faster job is seen done.
    d.record('together', req(), { doneMs: 1003 })
    expect(d.asks('together', req(), 20)).toEqual([983])
  })

  it('sees jobs that take alike times done within a few ms of their end, with no more polls than an interval schedule', () => {
    const interval = 50
    const pinned = runJobs(new JobDurations(), around(1000, 40), interval)
    // The first is asked every interval from the start; after a handful the span is a few ms wide.
    expect(pinned.polls[0]).toBeGreaterThanOrEqual(15)
    expect(mean(pinned.late.slice(8))).toBeLessThanOrEqual(4)
    expect(Math.max(...pinned.polls.slice(8))).toBeLessThanOrEqual(3)
    // Asking every interval from some moment before the end: half an interval late, over every phase.
    const phases = Array.from({ length: interval + 3 }, (_, k) => 800 + k)
    expect(mean(phases.map((first) => pollJob([first], 1000, interval).seen.doneMs - 1000))).toBeGreaterThan(interval / 2 - 3)
  })

  it('follows a kind that gets faster or slower', () => {
    const interval = 50
    for (const next of [850, 1200]) {
      const d = new JobDurations()
      runJobs(d, around(1000, 20), interval)
      const { late } = runJobs(d, around(next, 30), interval)
      // Seen late at first, then pinned again: a faster kind within a few jobs (three done at their
      // first ask send the next ask before the span), a slower one once its old times left the last eight.
      expect(late.slice(0, 3).every((l) => l > 10)).toBe(true)
      expect(mean(late.slice(next < 1000 ? 6 : 12))).toBeLessThanOrEqual(4)
    }
  })

  it('judges a job only by jobs of its provider, model, size, length and steps', () => {
    const d = new JobDurations()
    d.record('together', req(), done(1000))
    for (const other of [req({ model: 'google/veo-3.0' }), req({ width: 1920, height: 1080 }), req({ seconds: '10' }), req({ steps: 40 })]) {
      expect(d.asks('together', other, 50)).toEqual([])
    }
    expect(d.asks('offline', req(), 50)).toEqual([])
  })
})
