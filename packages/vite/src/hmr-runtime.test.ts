import { afterEach, describe, expect, it } from 'vitest'
import { HMR_RUNTIME_SOURCE } from './hmr-runtime.js'
import { specTag } from './dev.js'

/** Just enough of a `<video>` for the runtime: attributes, `load()`, no `<source>` children. */
class FakeVideo {
  readonly attrs = new Map<string, string>()
  loads = 0
  paused = true
  constructor(src: string, poster?: string) {
    this.attrs.set('src', src)
    if (poster) this.attrs.set('poster', poster)
  }
  getAttribute(name: string) {
    return this.attrs.get(name) ?? null
  }
  setAttribute(name: string, value: string) {
    this.attrs.set(name, value)
  }
  removeAttribute(name: string) {
    this.attrs.delete(name)
  }
  /** `<source>` children, when the page renders one per rendition. */
  children: FakeVideo[] = []
  querySelectorAll() {
    return this.children
  }
  load() {
    this.loads++
  }
}

const g = globalThis as Record<string, unknown>
afterEach(() => {
  delete g.document
  delete g.location
})

async function runtime(videos: FakeVideo[]) {
  g.location = { href: 'http://127.0.0.1:5173/' }
  g.document = { querySelectorAll: () => videos }
  const url = `data:text/javascript;base64,${Buffer.from(HMR_RUNTIME_SOURCE).toString('base64')}#${Math.random()}`
  return (await import(/* @vite-ignore */ url)) as { track(hot: unknown, fresh: object): object }
}

describe('the HMR runtime', () => {
  it('swaps only the edited spec even when two specs show the same clip', async () => {
    const digest = 'a'.repeat(64)
    const asset = (spec: string, d = digest) => ({
      src: `/@vidspec/${d}.mp4${specTag(spec)}`,
      poster: `/@vidspec/poster/${d}.jpg${specTag(spec)}`,
      type: 'video/mp4',
    })
    const hero = new FakeVideo(asset('hero.video.ts').src, asset('hero.video.ts').poster)
    const again = new FakeVideo(asset('hero-again.video.ts').src, asset('hero-again.video.ts').poster)
    const { track } = await runtime([hero, again])
    const hotHero = { data: {} as Record<string, unknown> }
    const hotAgain = { data: {} as Record<string, unknown> }
    const heroAsset = track(hotHero, asset('hero.video.ts'))
    track(hotAgain, asset('hero-again.video.ts'))

    // hero.video.ts was edited: a new clip for it, none for hero-again.
    const updated = track(hotHero, asset('hero.video.ts', 'b'.repeat(64)))
    expect(updated).toBe(heroAsset)
    expect(hero.getAttribute('src')).toBe(`/@vidspec/${'b'.repeat(64)}.mp4${specTag('hero.video.ts')}`)
    expect(hero.getAttribute('poster')).toBe(`/@vidspec/poster/${'b'.repeat(64)}.jpg${specTag('hero.video.ts')}`)
    expect(hero.loads).toBe(1)
    expect(again.getAttribute('src')).toBe(asset('hero-again.video.ts').src)
    expect(again.getAttribute('poster')).toBe(asset('hero-again.video.ts').poster)
    expect(again.loads).toBe(0)
  })

  it('points each <source> of an edited spec at the rendition in its place, and leaves other specs alone', async () => {
    const asset = (spec: string, key: string) => ({
      src: `/@vidspec/r/${key}-mp4.mp4${specTag(spec)}`,
      type: 'video/mp4',
      sources: [
        { src: `/@vidspec/r/${key}-webm.webm${specTag(spec)}`, type: 'video/webm; codecs="vp09.00.31.08"' },
        { src: `/@vidspec/r/${key}-mp4.mp4${specTag(spec)}`, type: 'video/mp4; codecs="avc1.64001f"' },
      ],
    })
    const withSources = (a: ReturnType<typeof asset>) => {
      const video = new FakeVideo('')
      video.attrs.delete('src')
      video.children = a.sources.map((s) => {
        const source = new FakeVideo(s.src)
        source.attrs.set('type', s.type)
        return source
      })
      return video
    }
    const hero = withSources(asset('hero.video.ts', 'k1'))
    const other = withSources(asset('other.video.ts', 'k1'))
    const { track } = await runtime([hero, other])
    const hot = { data: {} as Record<string, unknown> }
    track(hot, asset('hero.video.ts', 'k1'))
    track(hot, asset('hero.video.ts', 'k2'))
    expect(hero.children.map((s) => s.getAttribute('src'))).toEqual([`/@vidspec/r/k2-webm.webm${specTag('hero.video.ts')}`, `/@vidspec/r/k2-mp4.mp4${specTag('hero.video.ts')}`])
    expect(hero.loads).toBe(1)
    expect(other.children.map((s) => s.getAttribute('src'))).toEqual([`/@vidspec/r/k1-webm.webm${specTag('other.video.ts')}`, `/@vidspec/r/k1-mp4.mp4${specTag('other.video.ts')}`])
    expect(other.loads).toBe(0)
  })
})
