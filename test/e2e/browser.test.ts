import { cp, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { build, createServer, preview, type PreviewServer, type ViteDevServer } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setEnv } from '../helpers/env.js'
import { repoRoot } from '../helpers/project.js'
import { expectSeeks, videoStates, videosReady } from '../helpers/video.js'
import { until } from '../helpers/wait.js'

const EXAMPLE = join(repoRoot, 'examples/site')
const CHROMIUM = process.env.VIDSPEC_CHROMIUM ?? '/usr/bin/chromium'

/** Each example spec's `seconds`, read from its source (the spec is the truth the page must match). */
async function specSeconds(root: string): Promise<Record<string, number>> {
  const dir = join(root, 'src/videos')
  const out: Record<string, number> = {}
  for (const file of await readdir(dir)) {
    const m = /seconds:\s*'?(\d+(?:\.\d+)?)'?/.exec(await readFile(join(dir, file), 'utf8'))
    if (m?.[1]) out[file.replace(/\.video\.ts$/, '')] = Number(m[1])
  }
  return out
}

/** Every video has data to show and a duration matching its spec; then each one seeks. */
async function expectPlayable(page: Page, seconds: Record<string, number>): Promise<void> {
  for (const v of await videosReady(page, Object.keys(seconds).length)) {
    const name = v.id.replace(/^video-/, '')
    expect(v.duration, name).toBeGreaterThan(seconds[name]! - 0.2)
    expect(v.duration, name).toBeLessThan(seconds[name]! + 0.2)
    await expectSeeks(page, v, name)
  }
}

let root: string
let browser: Browser
let seconds: Record<string, number>
let restoreEnv = () => {}

beforeAll(async () => {
  // A copy of the example, so its store and build output stay out of the repository.
  root = await mkdtemp(join(tmpdir(), 'vidspec-e2e-'))
  await cp(EXAMPLE, root, {
    recursive: true,
    filter: (src) => !/[/\\](node_modules|\.vidspec|dist|vidspec-out)$/.test(src),
  })
  await symlink(join(EXAMPLE, 'node_modules'), join(root, 'node_modules'), 'dir')
  seconds = await specSeconds(root)
  // The example ships offline previews on this machine; CI=true would (rightly) refuse that build.
  restoreEnv = setEnv({ CI: undefined })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] })
})
afterAll(async () => {
  restoreEnv()
  await browser?.close()
  await rm(root, { recursive: true, force: true })
})

it('chromium plays H.264 MP4 and VP9 WebM', async () => {
  const page = await browser.newPage()
  const support = await page.evaluate(() => {
    const v = document.createElement('video')
    return { h264: v.canPlayType('video/mp4; codecs="avc1.42E01E"'), vp9: v.canPlayType('video/webm; codecs="vp9"') }
  })
  await page.close()
  // The example has both kinds; if this fails, the browser build lacks the codec, not vidspec.
  expect(support.h264).not.toBe('')
  expect(support.vp9).not.toBe('')
})

describe('the example site in vite dev', () => {
  let server: ViteDevServer
  let url: string

  beforeAll(async () => {
    server = await createServer({ root, server: { host: '127.0.0.1', port: 0 }, logLevel: 'warn' })
    await server.listen()
    url = `http://127.0.0.1:${(server.httpServer!.address() as AddressInfo).port}/`
  })
  afterAll(async () => {
    await server?.close()
  })

  it('every video plays and seeks; a spec edit swaps the clip without a reload', async () => {
    const page = await browser.newPage()
    try {
      await page.goto(url)
      await page.evaluate(() => ((window as unknown as { loadedOnce: number }).loadedOnce = 1))
      // Pending stand-ins first, then each clip lands by HMR.
      await until('every clip landed', async () =>
        (await videoStates(page)).every((v) => v.src !== '' && !v.src.includes('/pending/')),
      60_000)
      await expectPlayable(page, seconds)

      const before = await page.$eval('#video-hero', (v) => (v as HTMLVideoElement).querySelector('source')?.src ?? (v as HTMLVideoElement).src)
      const file = join(root, 'src/videos/hero.video.ts')
      await writeFile(file, (await readFile(file, 'utf8')).replace('forest at dawn', 'forest at dusk'))
      const after = await until('the hero clip swapped', async () => {
        const src = await page.$eval('#video-hero', (v) => (v as HTMLVideoElement).querySelector('source')?.src ?? (v as HTMLVideoElement).src)
        return src !== before && !src.includes('/pending/') && src
      }, 60_000)
      expect(after).toMatch(/\/@vidspec\/r\/[A-Za-z0-9_-]+\.mp4#vidspec=src%2Fvideos%2Fhero\.video\.ts$/)
      expect(await page.evaluate(() => (window as unknown as { loadedOnce?: number }).loadedOnce)).toBe(1)
      await until('the new hero clip playable', async () => (await videoStates(page)).find((v) => v.id === 'video-hero')!.readyState >= 2)
      const caption = await page.$eval('#video-hero + figcaption', (c) => c.textContent)
      expect(caption).toContain('1366×768')
    } finally {
      await page.close()
    }
  })
})

describe('the example site built and previewed', () => {
  let server: PreviewServer
  let url: string

  beforeAll(async () => {
    await build({ root, logLevel: 'warn' })
    server = await preview({ root, preview: { host: '127.0.0.1', port: 0 }, logLevel: 'warn' })
    url = `http://127.0.0.1:${(server.httpServer.address() as AddressInfo).port}/`
  })
  afterAll(async () => {
    await server?.close()
  })

  it('every video plays from its hashed asset and seeks', async () => {
    const page = await browser.newPage()
    try {
      await page.goto(url)
      const states = await until('videos on the page', async () => {
        const s = await videoStates(page)
        return s.length === Object.keys(seconds).length && s
      })
      for (const v of states) expect(v.src).toMatch(/\/assets\/[\w-]+-[\w-]{8}\.(mp4|webm)$/)
      // The hero lists its WebM first and its fast-start MP4 second: Chromium plays the WebM.
      const hero = await page.$eval('#video-hero', (v) => ({
        sources: [...v.querySelectorAll('source')].map((s) => ({ src: s.src, type: s.type })),
        width: v.getAttribute('width'),
        preload: v.getAttribute('preload'),
        playsinline: v.hasAttribute('playsinline'),
      }))
      expect(hero.sources.map((s) => s.type.split(';')[0])).toEqual(['video/webm', 'video/mp4'])
      expect(hero.sources[0]!.type).toMatch(/codecs="vp(09\.|9")/)
      expect(hero).toMatchObject({ width: '1366', preload: 'auto', playsinline: true })
      await until('the hero picked its source', async () => (await videoStates(page)).find((v) => v.id === 'video-hero')!.src !== '')
      const chosen = (await videoStates(page)).find((v) => v.id === 'video-hero')!.src
      expect(chosen).toBe(hero.sources[0]!.src)
      expect(chosen).toMatch(/\/assets\/hero-[\w-]{8}\.webm$/)
      await expectPlayable(page, seconds)
    } finally {
      await page.close()
    }
  })
})
