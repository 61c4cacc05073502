import { describe, expect, it } from 'vitest'
import { canonicalJson } from './canonical.js'

describe('canonicalJson', () => {
  it.each([
    ['key order', { b: 1, a: { d: 2, c: 3 } }, { a: { c: 3, d: 2 }, b: 1 }],
    ['undefined members', { a: 1, b: undefined }, { a: 1 }],
    ['-0 and 0', { n: -0 }, { n: 0 }],
    ['1.0 and 1', { n: 1.0 }, { n: 1 }],
  ])('treats %s alike', (_name, a, b) => {
    expect(canonicalJson(a)).toBe(canonicalJson(b))
  })

  it.each([
    ['array order', [1, 2], [2, 1]],
    ['null vs absent', { a: null }, {}],
    ['string vs number', { a: '6' }, { a: 6 }],
  ])('keeps %s apart', (_name, a, b) => {
    expect(canonicalJson(a)).not.toBe(canonicalJson(b))
  })

  it('rejects what JSON cannot carry', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/a is NaN/)
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/unsupported type function/)
  })
})
