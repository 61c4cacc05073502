import { basename, dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { StoreLayout, randomId } from './layout.js'

describe('randomId', () => {
  it('never repeats within a process, even within one millisecond, and names the process', () => {
    const ids = Array.from({ length: 20_000 }, () => randomId())
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids.slice(0, 3)) expect(id.split('-')[1]).toBe(String(process.pid))
  })
})

describe('StoreLayout paths', () => {
  const digest = 'ab'.repeat(32)
  const key = 'k_1-A'
  for (const dir of ['/srv/site/.vidspec', 'relative/.vidspec', '/srv/../srv/./site//.vidspec/']) {
    it(`are what path.join gives, from ${dir}`, () => {
      const l = new StoreLayout(dir)
      expect(l.objectPath(digest, 'mp4')).toBe(join(dir, 'objects', `${digest}.mp4`))
      expect(l.entryPath(key)).toBe(join(dir, 'entries', `${key}.json`))
      expect(l.derivedPath(key)).toBe(join(dir, 'derived', `${key}.json`))
      expect(l.journalPath(key)).toBe(join(dir, 'jobs', `${key}.json`))
      expect(l.uncertainPath(key)).toBe(join(dir, 'jobs', `${key}.uncertain.json`))
      expect(l.lockPath(key)).toBe(join(dir, 'locks', `${key}.lock`))
      const state = l.specStatePath('src/a.video.ts')
      expect(dirname(state)).toBe(join(dir, 'specs'))
      expect(basename(state)).toMatch(/^[0-9a-f]{64}\.json$/)
    })
  }

  it('refuses a key or digest that could leave its folder', () => {
    const l = new StoreLayout('/srv/.vidspec')
    for (const bad of ['../x', 'a/b', 'a\\b', '.hidden', '', 'a.b']) expect(() => l.entryPath(bad)).toThrow(/not a cache key/)
    expect(() => l.objectPath('../'.repeat(21) + 'a', 'mp4')).toThrow(/not a sha256 digest/)
    expect(() => l.objectPath(digest, 'mp4/../x')).toThrow(/not a file extension/)
  })
})
