import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { relativeInside, toPosix } from './paths.js'

describe('relativeInside', () => {
  const root = resolve('/project')
  it('gives the path below the folder', () => {
    expect(relativeInside(root, join(root, 'a', 'b.mp4'))).toBe(join('a', 'b.mp4'))
  })
  it('refuses the folder itself, its parent, a sibling and an escape through ..', () => {
    expect(relativeInside(root, root)).toBeUndefined()
    expect(relativeInside(root, resolve('/'))).toBeUndefined()
    expect(relativeInside(root, resolve('/project-other/x'))).toBeUndefined()
    expect(relativeInside(root, join(root, '..', 'x'))).toBeUndefined()
  })
  it('keeps a name that merely starts with two dots', () => {
    expect(relativeInside(root, join(root, '..hidden'))).toBe('..hidden')
  })
})

describe('toPosix', () => {
  it('writes a relative path with slashes', () => {
    expect(toPosix(join('a', 'b', 'c.ts'))).toBe('a/b/c.ts')
  })
})
