import { Writable } from 'node:stream'
import type { VidspecEvent } from '@vidspec/core'
import { describe, expect, it } from 'vitest'
import type { Io } from './output.js'
import { Reporter } from './reporter.js'

function pipeIo(): Io & { lines(): string[] } {
  let text = ''
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString()
      cb()
    },
  })
  return { stdout: sink, stderr: sink, env: {}, cwd: '/', lines: () => text.split('\n').filter(Boolean) }
}

const progress = (spec: string, status: string, elapsedMs: number): VidspecEvent => ({ type: 'job:progress', spec, key: `k-${spec}`, status, elapsedMs })

describe('the plain reporter (CI, pipes)', () => {
  it("prints a job's progress when it starts and when its status changes, not on every poll", () => {
    const io = pipeIo()
    const reporter = new Reporter(io)
    for (let i = 0; i < 30; i++) reporter.event(progress('a.video.ts', i < 10 ? 'queued' : 'in_progress', i * 500))
    reporter.event({ type: 'spec:done', spec: 'a.video.ts', key: 'k-a.video.ts', generated: true, durationMs: 15_000 })
    // The spec is generated again (an edit in watch): its new job gets its first line.
    reporter.event(progress('a.video.ts', 'in_progress', 0))
    expect(io.lines()).toEqual([
      'job:progress     a.video.ts queued 0 ms',
      'job:progress     a.video.ts in_progress 5.0 s',
      'spec:done        a.video.ts 15.0 s',
      'job:progress     a.video.ts in_progress 0 ms',
    ])
  })
})
