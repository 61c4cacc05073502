import { createHash } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clean, exampleDir, fileForUrl, freePort, listFiles, mediaUrls, mediaUrlsIn, rangeRequest, run, serveStatic, startDev } from './harness.js'
import { expectVideosPlay } from '../helpers/video.js'

export interface Example {
  /** Folder under `examples/`. */
  name: string
  /** The site's public base, with a trailing slash: `/docs/`. */
  base: string
  /** The folder a static host serves at `base`, relative to the example. */
  outDir: string
  /** HTML files (relative to `outDir`) that must show every clip the page imports. */
  pages: Record<string, { clips: number }>
  /** Output and store folders removed before the build. */
  clean: string[]
  /** `node <script> ...args` that builds the site for production. */
  build: [string, ...string[]]
  /** The dev server's command for a port. */
  dev: (port: number) => [string, ...string[]]
  /** A dev URL path (under the base) whose response names the clips' dev URLs. */
  devProbe: string
  /** Where dev clip URLs start, when not at `base` (Astro's dev server runs Vite at `/`). */
  devBase?: string
  /** Where a static host finds a page whose file is not at `base` + its path (React Router's basename folder). */
  staticPages?: Record<string, string>
  /** `<video id>` -> the `<source>` types it must list, in order (imports with directives). */
  sources?: Record<string, string[]>
  /** Play the built clips in Chromium: how many <video> elements the page ends up with. */
  browser?: { videos: number }
}

const CHROMIUM = process.env.VIDSPEC_CHROMIUM ?? '/usr/bin/chromium'
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

/** Counts the example's specs: each one is a clip the production output must hold exactly once. */
async function specCount(dir: string): Promise<number> {
  const files = await readdir(dir, { recursive: true })
  return files.filter((f) => String(f).endsWith('.video.ts') && !String(f).includes('node_modules')).length
}

/**
 * One production build and one dev server of an example, run with the example's own CLI, and every
 * claim of the issue checked on that one output: URLs with `base`, never `file://` or relative to the
 * script, each resolving to a file in the output, each clip emitted once with the store's bytes, and
 * dev answering byte ranges.
 */
export function describeExample(ex: Example): void {
  const dir = exampleDir(ex.name)
  const out = join(dir, ex.outDir)

  describe(`${ex.name}: production build`, () => {
    let buildLog = ''
    beforeAll(async () => {
      await clean(dir, ex.clean)
      buildLog = await run(dir, ex.build[0], ex.build.slice(1))
    })

    it('the build said nothing about an untested Vite', () => {
      expect(buildLog).not.toContain('is tested with Vite')
      expect(buildLog).not.toContain('needs Vite')
    })

    it('every clip and poster URL in the output has the base and names a file in the output', async () => {
      const found = await mediaUrlsIn(out)
      expect(found.length).toBeGreaterThan(0)
      for (const { file, url } of found) {
        expect(url, `${url} in ${file}`).not.toMatch(/^file:/)
        expect(url.startsWith(ex.base), `${url} in ${file} lacks the base ${ex.base}`).toBe(true)
        expect(await fileForUrl(url, ex.base, out), `${url} in ${file} names no file in ${ex.outDir}`).toBeDefined()
      }
      // A URL computed from where the script lands (what the old plugin emitted on Rollup-based Vite) is
      // right only in a chunk that stays where Vite put it (a relative `base`, as SvelteKit's client uses):
      // it must name a file from that chunk, and never appear in HTML, where an inlined script put it.
      for (const file of (await listFiles(out)).filter((f) => /\.(m?js|html)$/.test(f))) {
        const code = await readFile(join(out, file), 'utf8')
        expect(code.match(/__VITE_ASSET__\w*/g) ?? [], file).toEqual([])
        for (const m of code.matchAll(/new URL\(\s*["'`]([^"'`]*\.(?:mp4|webm|jpg))["'`],\s*import\.meta\.url\s*\)/g)) {
          expect(file.endsWith('.html'), `${m[0]} in ${file}`).toBe(false)
          const target = resolve(out, dirname(file), m[1]!)
          expect(await stat(target).then((s) => s.isFile(), () => false), `${m[0]} in ${file} names no file`).toBe(true)
        }
      }
    })

    it('each page shows its clips, each with a poster (and a <source> per rendition, with its type)', async () => {
      for (const [page, { clips }] of Object.entries(ex.pages)) {
        const html = await readFile(join(out, page), 'utf8')
        const elements = html.match(/<video\b[\s\S]*?<\/video>/g) ?? []
        expect(elements.length, `${page}: ${elements.join('\n')}`).toBeGreaterThanOrEqual(clips)
        for (const element of elements) {
          const [src] = mediaUrls(element).filter((u) => /\.(mp4|webm)$/.test(u))
          const [poster] = mediaUrls(element).filter((u) => u.endsWith('.jpg'))
          expect(src, element).toBeDefined()
          expect(poster, element).toBeDefined()
          for (const source of element.match(/<source\b[^>]*>/g) ?? []) expect(source, element).toMatch(/\btype="video\/(mp4|webm)/)
        }
        if (ex.sources) for (const [id, types] of Object.entries(ex.sources)) {
          const element = elements.find((e) => e.includes(`id="${id}"`))
          expect(element, `${page}: no <video id="${id}">`).toBeDefined()
          expect([...element!.matchAll(/<source\b[^>]*\btype="([^";]+)/g)].map((m) => m[1]), element).toEqual(types)
        }
      }
    })

    it('each rendition is in the output once, byte for byte a stored object, however many environments imported it', async () => {
      const files = await listFiles(out)
      const clips = files.filter((f) => /\.(mp4|webm)$/.test(f))
      const posters = files.filter((f) => f.endsWith('.jpg'))
      const specs = await specCount(dir)
      // One fast-start MP4 per spec by default, one more for each extra rendition an import asks for.
      expect(clips, clips.join('\n')).toHaveLength(specs + Object.values(ex.sources ?? {}).reduce((n, t) => n + t.length - 1, 0))
      expect(posters, posters.join('\n')).toHaveLength(specs)
      const stored = new Set((await readdir(join(dir, '.vidspec/objects'))).map((f) => f.replace(/\.\w+$/, '')))
      for (const clip of clips) expect(stored.has(sha256(await readFile(join(out, clip)))), `${clip} is not a stored clip`).toBe(true)
    })

    if (ex.browser) {
      describe('in Chromium', () => {
        let browser: Browser
        let server: Awaited<ReturnType<typeof serveStatic>>
        beforeAll(async () => {
          server = await serveStatic(out, ex.base, ex.staticPages)
          browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] })
        })
        afterAll(async () => {
          await browser?.close()
          await server?.close()
        })

        it('every built clip on the page plays and seeks', async () => {
          const page = await browser.newPage()
          try {
            const failed: string[] = []
            // A missing favicon is the example's business, not vidspec's.
            page.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && failed.push(`${r.status()} ${r.url()}`))
            await page.goto(`${server.url}${ex.base}`)
            await expectVideosPlay(page, ex.browser!.videos)
            expect(failed).toEqual([])
          } finally {
            await page.close()
          }
        })
      })
    }
  })

  describe(`${ex.name}: dev server`, () => {
    let dev: Awaited<ReturnType<typeof startDev>>
    beforeAll(async () => {
      const port = await freePort()
      const [script, ...args] = ex.dev(port)
      dev = await startDev(dir, script, args, `http://127.0.0.1:${port}${ex.base}`)
    })
    afterAll(async () => {
      await dev?.close()
    })

    it('serves every clip it hands out with byte ranges (206)', async () => {
      const origin = new URL(dev.url).origin
      const res = await fetch(`${origin}${ex.base}${ex.devProbe}`)
      const text = await res.text()
      const clips = mediaUrls(text).filter((u) => /\/@vidspec\/.*\.(mp4|webm)$/.test(u))
      expect(clips.length, `no clip URL in ${ex.devProbe}:\n${text.slice(0, 2000)}`).toBeGreaterThan(0)
      for (const url of clips) {
        expect(url.startsWith(`${ex.devBase ?? ex.base}@vidspec/`), url).toBe(true)
        const r = await rangeRequest(`${origin}${url}`)
        expect(r.status, url).toBe(206)
        expect(r.bytes).toBe(100)
        expect(r.contentRange).toMatch(/^bytes 0-99\/\d+$/)
        expect(r.type).toMatch(/^video\/(mp4|webm)/)
      }
    })
  })
}
