import { describe, expect, it } from 'vitest'
import { clipUrl, devBase, parseVidspecUrl, pendingUrl, posterUrl } from './urls.js'

const digest = 'a'.repeat(64)

describe('dev URLs', () => {
  it('puts every URL under the dev base', () => {
    expect(clipUrl('/', digest, 'mp4')).toBe(`/@vidspec/${digest}.mp4`)
    expect(clipUrl('/sub/', digest, 'webm')).toBe(`/sub/@vidspec/${digest}.webm`)
    expect(posterUrl('/sub', digest)).toBe(`/sub/@vidspec/poster/${digest}.jpg`)
    expect(pendingUrl('/', 'k1', 'mp4')).toBe('/@vidspec/pending/k1.mp4')
    // A full-URL or relative base is a build-time concern; dev serves from the root.
    expect(devBase('./')).toBe('/')
    expect(devBase('https://cdn.example.com/x/')).toBe('/')
  })

  it('reads back what it hands out, with or without the base', () => {
    for (const base of ['/', '/sub/']) {
      expect(parseVidspecUrl(clipUrl(base, digest, 'mp4'), base)).toEqual({ kind: 'clip', digest, ext: 'mp4' })
      expect(parseVidspecUrl(posterUrl(base, digest), base)).toEqual({ kind: 'poster', digest })
      expect(parseVidspecUrl(pendingUrl(base, 'k1', 'webm'), base)).toEqual({ kind: 'pending', key: 'k1', ext: 'webm' })
    }
    expect(parseVidspecUrl(`/@vidspec/${digest}.mp4`, '/sub/')).toEqual({ kind: 'clip', digest, ext: 'mp4' })
  })

  it('leaves other paths alone and calls anything else under the prefix unknown', () => {
    expect(parseVidspecUrl('/src/main.ts', '/')).toBeUndefined()
    expect(parseVidspecUrl('/@vite/client', '/')).toBeUndefined()
    for (const path of [
      '/@vidspec/',
      `/@vidspec/${digest}.mov`,
      `/@vidspec/${digest.slice(1)}.mp4`,
      `/@vidspec/../${digest}.mp4`,
      '/@vidspec/pending/../../etc/passwd.mp4',
      `/@vidspec/poster/${digest}.png`,
    ]) {
      expect(parseVidspecUrl(path, '/'), path).toEqual({ kind: 'unknown' })
    }
  })
})
