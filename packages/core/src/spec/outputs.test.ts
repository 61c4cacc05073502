import { describe, expect, it } from 'vitest'
import { VidspecError } from '../errors.js'
import { checkOutputNames } from './outputs.js'

const root = '/p/site'
const refuse = (files: string[]): VidspecError => {
  try {
    checkOutputNames(root, files)
  } catch (err) {
    expect(err).toBeInstanceOf(VidspecError)
    expect((err as VidspecError).code).toBe('CONFIG_INVALID')
    return err as VidspecError
  }
  throw new Error('not refused')
}

describe('checkOutputNames', () => {
  it('passes distinct names, in any folders', () => {
    expect(() => checkOutputNames(root, ['/p/site/hero.video.ts', '/p/site/pages/hero.video.ts', '/p/site/loop.video.mts'])).not.toThrow()
  })

  it('refuses two extensions of one name, naming both files', () => {
    const err = refuse(['/p/site/a/hero.video.ts', '/p/site/a/hero.video.mts', '/p/site/b.video.ts'])
    expect(err.message).toContain('a/hero.video.ts and a/hero.video.mts have the same output name "a/hero"')
    expect(err.message).not.toContain('b.video.ts')
  })

  it('refuses names equal up to case or Unicode normalization', () => {
    expect(refuse(['/p/site/Hero.video.ts', '/p/site/hero.video.ts']).message).toContain('output names equal up to case ("Hero", "hero")')
    expect(refuse(['/p/site/caf\u00e9.video.ts', '/p/site/cafe\u0301.video.ts']).message).toMatch(/equal up to case/)
    expect(refuse(['/p/site/Pages/a.video.ts', '/p/site/pages/a.video.ts']).message).toMatch(/equal up to case/)
  })

  it('refuses a spec outside the root, whose name would climb out of the out folder', () => {
    const err = refuse(['/p/site/in.video.ts', '/p/x/hero.video.ts'])
    expect(err.message).toContain('/p/x/hero.video.ts lies outside the project root /p/site')
    expect(err.message).toContain('"../x/hero"')
  })

  it('lists every problem at once', () => {
    const err = refuse(['/p/x/a.video.ts', '/p/site/b.video.ts', '/p/site/B.video.mts'])
    expect(err.message.split('\n  - ')).toHaveLength(3)
  })
})
