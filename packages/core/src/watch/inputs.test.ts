import { expect, it } from 'vitest'
import { InputIndex } from './inputs.js'

it('maps each input to the specs it feeds, follows a spec that changed its inputs, and forgets a deleted one', () => {
  const index = new InputIndex()
  index.set('/p/a.video.ts', ['/p/a.video.ts', '/p/brand.ts', '/p/first.png'])
  index.set('/p/b.video.ts', ['/p/b.video.ts', '/p/brand.ts'])
  expect([...index.fedBy(['/p/first.png'])]).toEqual(['/p/a.video.ts'])
  expect([...index.fedBy(['/p/brand.ts'])].sort()).toEqual(['/p/a.video.ts', '/p/b.video.ts'])
  expect([...index.fedBy(['/p/b.video.ts'])]).toEqual(['/p/b.video.ts'])
  // a drops its image: the image feeds nothing now.
  index.set('/p/a.video.ts', ['/p/a.video.ts', '/p/brand.ts'])
  expect([...index.fedBy(['/p/first.png'])]).toEqual([])
  index.delete('/p/b.video.ts')
  expect([...index.fedBy(['/p/brand.ts', '/p/b.video.ts'])]).toEqual(['/p/a.video.ts'])
  expect(index.files).toEqual(['/p/a.video.ts'])
})
