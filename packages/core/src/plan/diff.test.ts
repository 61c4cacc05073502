import { describe, expect, it } from 'vitest'
import type { PlanItem } from '../project.js'
import type { NormalizedRequest, ResolvedMedia } from '../types.js'
import { describeChange, diffRequests, wordDiff } from './diff.js'
import { explainPlan } from './explain.js'

const A = 'a'.repeat(64)
const B = 'b'.repeat(64)
const file = (ref: string, sha256: string): [string, ResolvedMedia] => [ref, { kind: 'file', ref, sha256, path: `/p/${ref}` }]
const withImage = (ref: string): NormalizedRequest => ({ model: 'm', prompt: 'p', media: { frame_images: [{ input_image: ref, frame: 'first' }] } })

describe('describeChange', () => {
  it('shows the changed words of a long string with context on each side, not two equal prefixes', () => {
    const before = 'A person walking through a forest at dawn, camera slowly tracking alongside, teal and amber grade, soft light'
    const after = before.replace('at dawn', 'at dusk')
    const [b, a] = wordDiff(before, after)
    expect(b).toBe('"…a forest at dawn, camera slowly tracking…"')
    expect(a).toBe('"…a forest at dusk, camera slowly tracking…"')
    const [changed] = diffRequests({ request: { model: 'm', prompt: before }, media: {} }, { request: { model: 'm', prompt: after }, media: new Map() })
    expect(describeChange(changed!)).toBe(`prompt: ${b} → ${a}`)
    // A change at the very start or end keeps the other side's context only.
    expect(wordDiff(`x ${before}`, `y ${before}`)[1]).toBe('"y A person walking…"')
    expect(wordDiff(`${before} x`, `${before} y`)[1]).toBe('"…grade, soft light y"')
    expect(wordDiff('short one', 'short two')).toEqual(['"short one"', '"short two"'])
  })

  it('says a renamed media file is renamed, and whether its content changed too', () => {
    const renamed = diffRequests({ request: withImage('./a.png'), media: { './a.png': A } }, { request: withImage('./b.png'), media: new Map([file('./b.png', A)]) })
    expect(renamed.map(describeChange)).toEqual(['media.frame_images[0].input_image: "./a.png" → "./b.png" (renamed; same content)'])
    const both = diffRequests({ request: withImage('./a.png'), media: { './a.png': A } }, { request: withImage('./b.png'), media: new Map([file('./b.png', B)]) })
    expect(both.map(describeChange)).toEqual(['media.frame_images[0].input_image: "./a.png" → "./b.png" (renamed, and its content changed too)'])
    const content = diffRequests({ request: withImage('./a.png'), media: { './a.png': A } }, { request: withImage('./a.png'), media: new Map([file('./a.png', B)]) })
    expect(content.map(describeChange)).toEqual(['media.frame_images[0].input_image: content changed'])
  })
})

describe('explainPlan', () => {
  const item = (over: Partial<PlanItem>): PlanItem => ({
    id: 'hero.video.ts',
    name: 'hero',
    file: '/p/hero.video.ts',
    status: 'changed',
    basis: 'lockfile',
    changes: [{ path: 'steps', before: 20, after: 30, kind: 'value' }],
    changedDeps: [],
    ...over,
  })

  it('names a cause only when it is known; otherwise lists the changed files as changed', () => {
    expect(explainPlan([item({ changedDeps: ['hero.video.ts'] })])).toContain('  caused by an edit of the spec file\n')
    expect(explainPlan([item({ changedDeps: ['brand.ts'] })])).toContain('  caused by a shared module: brand.ts (the spec file itself is unchanged)\n')
    const two = explainPlan([item({ changedDeps: ['brand.ts', 'hero.video.ts'] })])
    expect(two).toContain('  changed files: brand.ts, hero.video.ts\n')
    expect(two).not.toMatch(/caused by/)
    const media = explainPlan([item({ changes: [{ path: 'media.frame_images[0].input_image', before: './a.png', after: './a.png', kind: 'content' }], changedDeps: ['hero.video.ts'] })])
    expect(media).toContain('  caused by the content of a referenced media file\n  also changed, with no effect on the request: hero.video.ts\n')
  })

  it('says a provider switch in words', () => {
    const spec = { provider: 'offline' } as PlanItem['spec']
    const text = explainPlan([item({ changes: [], previousProvider: 'together', spec })])
    expect(text).toBe(
      'changed  hero.video.ts (against the lockfile)\n  the provider changed: together → offline (each provider has its own keys; the together clip is kept)\n',
    )
  })
})
