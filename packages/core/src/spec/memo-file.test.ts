import { describe, expect, it } from 'vitest'
import type { MemoizedSpec } from './memo.js'
import { decodeMemo, encodeMemo, type MemoRecord } from './memo-file.js'

const SHARED = '/site/src/brand.ts'
const sha = (c: string): string => c.repeat(64)

function record(id: string, extra: Partial<MemoizedSpec> = {}): MemoRecord {
  const own = `/site/${id}`
  return {
    inputs: { [SHARED]: sha('a'), [own]: sha('b'), '/site/frame.png': sha('c') },
    spec: {
      deps: [SHARED, own],
      request: { model: 'minimax/hailuo-02', prompt: `shot of ${id}`, width: 1366, height: 768, seconds: '6' } as MemoizedSpec['request'],
      media: [['image', { kind: 'file', ref: './frame.png', path: '/site/frame.png', sha256: sha('c'), mime: 'image/png', size: 10 }]],
      key: sha('d'),
      warnings: [`${id}: fps: 8 is not a frame rate the model lists`, `${id}: seconds: 1 s is not a listed duration`, 'a warning about the config, said as it is'],
      ...extra,
    },
  }
}

describe('the memo file', () => {
  const specs = Object.fromEntries(['a.video.ts', 'b.video.ts', 'c.video.ts'].map((id) => [id, record(id)]))
  const stamps: Record<string, [string, string]> = { [SHARED]: ['1:2:3:4:5', sha('a')] }

  it('reads back exactly what was written', () => {
    const file = JSON.parse(JSON.stringify(encodeMemo({ keyVersion: 1, provider: 'offline' }, specs, stamps)))
    expect(decodeMemo(file)).toEqual(specs)
    expect(file.stamps).toEqual(stamps)
  })

  it('writes each path and each warning once', () => {
    const file = encodeMemo({ keyVersion: 1, provider: 'offline' }, specs, stamps)
    expect(file.paths.filter((p) => p === SHARED)).toHaveLength(1)
    expect(file.warnings).toEqual(['fps: 8 is not a frame rate the model lists', 'seconds: 1 s is not a listed duration'])
    const text = JSON.stringify(file)
    expect(text.split(SHARED)).toHaveLength(2 + 1) // the paths table and the stamps
    expect(text.split('a warning about the config')).toHaveLength(3 + 1) // said as it is, by each spec
  })

  it('leaves out records it cannot read, and refuses a file without its tables', () => {
    const file = JSON.parse(JSON.stringify(encodeMemo({ keyVersion: 1, provider: 'offline' }, specs, stamps)))
    file.specs['a.video.ts'][0][0] = 99 // a path index past the table
    file.specs['b.video.ts'][2].warnings = [7]
    file.specs['x.video.ts'] = { inputs: {}, spec: {} } // the plain form of version 1
    const read = decodeMemo(file)
    expect(Object.keys(read ?? {})).toEqual(['c.video.ts'])
    expect(decodeMemo({ ...file, paths: undefined })).toBeUndefined()
    expect(decodeMemo({ version: 2, specs: {} } as never)).toBeUndefined()
  })
})
