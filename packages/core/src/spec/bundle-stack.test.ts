import { describe, expect, it } from 'vitest'
import { mapBundleFrames } from './bundle-stack.js'

// Generated line 1 comes from /p/brand.ts line 3 column 5; generated line 2 from /p/hero.video.ts line 1.
const map = { version: 3, file: 'spec-0.mjs', sources: ['/p/brand.ts', '/p/hero.video.ts'], names: [], mappings: 'AAEI;ACFJ', sourceRoot: '', sourcesContent: [] }
const bundle = 'file:///tmp/vidspec-load-x/7-hero.video.ts.mjs'

describe('mapBundleFrames', () => {
  it("points the bundle's frames at the original files and leaves every other frame alone", () => {
    const stack = [
      'Error: no palette',
      `    at pick (${bundle}:1:3)`,
      `    at ${bundle}:2:1`,
      '    at ModuleJob.run (node:internal/modules/esm/module_job:325:25)',
      '    at lib (file:///p/node_modules/lib/index.js:9:9)',
      `    at other (${bundle}.other:1:1)`,
    ].join('\n')
    expect(mapBundleFrames(stack, bundle, map).split('\n')).toEqual([
      'Error: no palette',
      '    at pick (/p/brand.ts:3:5)',
      '    at /p/hero.video.ts:1:1',
      '    at ModuleJob.run (node:internal/modules/esm/module_job:325:25)',
      '    at lib (file:///p/node_modules/lib/index.js:9:9)',
      `    at other (${bundle}.other:1:1)`,
    ])
  })

  it('leaves a frame the map has nothing for as it is', () => {
    const stack = `Error: x\n    at ${bundle}:1:1`
    expect(mapBundleFrames(stack, bundle, { ...map, mappings: '' })).toBe(stack)
  })
})
