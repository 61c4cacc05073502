import { describe, expect, it } from 'vitest'
import { videoHtml } from './markup.js'
import type { VideoAsset } from './types.js'

const asset: VideoAsset = {
  src: '/assets/hero-abc.mp4',
  type: 'video/mp4',
  width: 1280,
  height: 720,
  duration: 4,
  fps: 24,
  poster: '/assets/hero-abc.jpg',
  placeholder: 'data:image/webp;base64,AAAA',
  sources: [
    { src: '/assets/hero-abc.webm', type: 'video/webm; codecs="vp09.00.31.08"', width: 1280, height: 720, bytes: 10 },
    { src: '/assets/hero-abc.mp4', type: 'video/mp4; codecs="avc1.64001f"', width: 1280, height: 720, bytes: 20 },
  ],
}

describe('videoHtml', () => {
  it('writes one <source> per rendition in order, the box, the poster, preload and playsinline', () => {
    expect(videoHtml(asset, { muted: true, autoplay: true, loop: true, controls: false, class: 'hero' })).toBe(
      '<video width="1280" height="720" poster="/assets/hero-abc.jpg" preload="metadata" playsinline muted autoplay loop class="hero" ' +
        'style="background:center/cover no-repeat url(&quot;data:image/webp;base64,AAAA&quot;)">' +
        '<source src="/assets/hero-abc.webm" type="video/webm; codecs=&quot;vp09.00.31.08&quot;">' +
        '<source src="/assets/hero-abc.mp4" type="video/mp4; codecs=&quot;avc1.64001f&quot;">' +
        '</video>',
    )
  })

  it('lets a given attribute win over its own default, and appends a given style after the placeholder', () => {
    const html = videoHtml(asset, { preload: 'auto', style: 'border-radius:8px' })
    expect(html).toContain(' preload="auto"')
    expect(html).not.toContain('preload="metadata"')
    expect(html).toMatch(/style="background:[^"]*;border-radius:8px"/)
  })

  it('falls back to the asset src when there are no renditions, and leaves out what it does not have', () => {
    const plain: VideoAsset = { src: '/@vidspec/x.mp4#vidspec=a.video.ts', type: 'video/mp4', width: 160, height: 90, duration: 1, fps: 10 }
    expect(videoHtml(plain)).toBe('<video width="160" height="90" preload="metadata" playsinline><source src="/@vidspec/x.mp4#vidspec=a.video.ts" type="video/mp4"></video>')
  })

  it('escapes every value, so an attacker-controlled string never leaves its attribute', () => {
    const hostile = `"><script>alert(1)</script><x a='`
    const html = videoHtml({ ...asset, poster: hostile, sources: [{ ...asset.sources![0]!, src: hostile }] }, { title: hostile, 'data-x': '&amp;' })
    expect(html).not.toContain('<script>')
    expect(html).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;x a=&#39;')
    expect(html).toContain('data-x="&amp;amp;"')
    expect(html.match(/<video/g)).toHaveLength(1)
    expect(html.match(/<source/g)).toHaveLength(1)
  })

  it('refuses an attribute name that would break out of the tag', () => {
    expect(() => videoHtml(asset, { 'onload="x"': true })).toThrow(/is not an attribute name/)
    expect(() => videoHtml(asset, { 'a b': 'c' })).toThrow(/is not an attribute name/)
  })
})
