import { expect, it } from 'vitest'
import { keepYoungGenerationSmall } from './heap.js'

it('sets the flag only on the V8 versions it was measured on (Node 20, 22, 24)', () => {
  const set: string[] = []
  const tune = (v8: string) => keepYoungGenerationSmall(v8, (flags) => set.push(flags))
  expect([tune('11.3.244.8-node.33'), tune('12.4.254.21-node.33'), tune('13.6.233.17-node.37')]).toEqual([true, true, true])
  expect(set).toEqual(Array(3).fill('--semi-space-growth-factor=1'))
  expect([tune('14.1.0'), tune('10.2.154'), tune('garbled')]).toEqual([false, false, false])
  expect(set).toHaveLength(3)
})
