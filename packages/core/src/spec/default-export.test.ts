import { expect, it } from 'vitest'
import { defaultExportProblem } from './default-export.js'
import { exportKind } from './export-kind.js'

it('names what a default export is instead of the object wanted, the same way for specs and configs', () => {
  const hint = 'a config must export default defineConfig({ ... })'
  const problem = (value: unknown, hasDefault = true) => defaultExportProblem({ hasDefault, value }, 'an object of options', hint)
  expect(problem({ concurrency: 2 })).toBeUndefined()
  expect(problem(undefined, false)).toBe(`has no default export; ${hint}`)
  expect(problem(undefined)).toBe(`has no default export; ${hint}`)
  expect(problem('fast')).toBe(`its default export is a string ("fast"), not an object of options; ${hint}`)
  expect(problem([1])).toMatch(/^its default export is an array, not/)
  expect(problem(() => 1)).toMatch(/^its default export is a function, not/)
  expect(problem(null)).toMatch(/^its default export is null, not/)
  // The worker reports a function by kind alone (a function cannot cross to the pool).
  expect(defaultExportProblem({ hasDefault: true, kind: 'function' }, 'a spec object', 'hint')).toMatch(/is a function, not a spec object/)
  expect([null, [], {}, 1, 'x', undefined].map(exportKind)).toEqual(['null', 'array', 'object', 'number', 'string', 'undefined'])
})
