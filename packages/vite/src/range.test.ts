import { describe, expect, it } from 'vitest'
import { parseRange } from './range.js'

describe('parseRange', () => {
  const size = 1000

  it('sends the whole file without a header', () => {
    expect(parseRange(undefined, size)).toEqual({ kind: 'full' })
    expect(parseRange('', size)).toEqual({ kind: 'full' })
  })

  it('reads a closed range, inclusive at both ends', () => {
    expect(parseRange('bytes=0-0', size)).toEqual({ kind: 'partial', start: 0, end: 0 })
    expect(parseRange('bytes=100-199', size)).toEqual({ kind: 'partial', start: 100, end: 199 })
  })

  it('clamps an end past the file to the last byte', () => {
    expect(parseRange('bytes=900-5000', size)).toEqual({ kind: 'partial', start: 900, end: 999 })
  })

  it('reads an open range to the end', () => {
    expect(parseRange('bytes=990-', size)).toEqual({ kind: 'partial', start: 990, end: 999 })
    expect(parseRange('bytes=0-', size)).toEqual({ kind: 'partial', start: 0, end: 999 })
  })

  it('reads a suffix range as the last N bytes, the whole file when N is larger', () => {
    expect(parseRange('bytes=-10', size)).toEqual({ kind: 'partial', start: 990, end: 999 })
    expect(parseRange('bytes=-5000', size)).toEqual({ kind: 'partial', start: 0, end: 999 })
  })

  it('is unsatisfiable when the range starts at or past the end, or asks for zero suffix bytes', () => {
    expect(parseRange('bytes=1000-', size)).toEqual({ kind: 'unsatisfiable' })
    expect(parseRange('bytes=1000-2000', size)).toEqual({ kind: 'unsatisfiable' })
    expect(parseRange('bytes=-0', size)).toEqual({ kind: 'unsatisfiable' })
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' })
    expect(parseRange('bytes=-1', 0)).toEqual({ kind: 'unsatisfiable' })
  })

  it('ignores what it does not understand and sends the whole file', () => {
    for (const header of ['items=0-1', 'bytes=abc', 'bytes=5-1', 'bytes=-', 'bytes', 'bytes=0-1,5-6', 'bytes=1.5-2']) {
      expect(parseRange(header, size), header).toEqual({ kind: 'full' })
    }
  })

  it('accepts the unit in any case and spaces around the range', () => {
    expect(parseRange('Bytes= 1-2 ', size)).toEqual({ kind: 'partial', start: 1, end: 2 })
  })
})
