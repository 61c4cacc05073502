import { expect, it } from 'vitest'
import { keepYoungGenerationSmall, skipOptimizingCompiler } from './v8-flags.js'

it('keeps the young generation small only on the V8 versions it was measured on (Node 20, 22, 24)', () => {
  const set: string[] = []
  const tune = (v8: string) => keepYoungGenerationSmall(v8, (flags) => set.push(flags))
  expect([tune('11.3.244.8-node.33'), tune('12.4.254.21-node.33'), tune('13.6.233.17-node.37')]).toEqual([true, true, true])
  expect(set).toEqual(Array(3).fill('--semi-space-growth-factor=1'))
  expect([tune('14.1.0'), tune('10.2.154'), tune('garbled')]).toEqual([false, false, false])
  expect(set).toHaveLength(3)
})

it('turns TurboFan off for every command but watch, on Node 20 and 22 only', () => {
  const set: string[] = []
  const skip = (command: string | undefined, v8: string) => skipOptimizingCompiler(command, v8, (flags) => set.push(flags))
  expect([skip('plan', '11.3.244.8-node.33'), skip('build', '12.4.254.21-node.33'), skip(undefined, '11.3.244.8-node.33')]).toEqual([true, true, true])
  expect(set).toEqual(Array(3).fill('--no-turbofan'))
  expect([skip('watch', '11.3.244.8-node.33'), skip('plan', '13.6.233.17-node.37'), skip('plan', '10.2.154'), skip('plan', 'garbled')]).toEqual([false, false, false, false])
  expect(set).toHaveLength(3)
})
