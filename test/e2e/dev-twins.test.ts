import { mkdtemp, readFile, rm, symlink, writeFile, mkdir } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import vidspec from '@vidspec/vite'
import { chromium, type Browser } from 'playwright-core'
import { createServer, type ViteDevServer } from 'vite'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { repoRoot } from '../helpers/project.js'
import { videoStates } from '../helpers/video.js'
import { until } from '../helpers/wait.js'

// Issue 19.5 in a real browser: two specs whose clips have the same bytes (one key, one URL path)
// each get their own <video>; editing one swaps only that one's element, by HMR, without a reload.

const CHROMIUM = process.env.VIDSPEC_CHROMIUM ?? '/usr/bin/chromium'
const spec = (prompt: string) =>
  "import { defineVideo } from '@vidspec/core'\n" +
  `export default defineVideo({ model: 'minimax/hailuo-02', prompt: ${JSON.stringify(prompt)}, seconds: 1, width: 160, height: 90 })\n`
const main = `import one from './one.video'
import two from './two.video'
for (const [name, clip] of [['one', one], ['two', two]] as const) {
  const video = document.createElement('video')
  video.id = \`video-\${name}\`
  video.src = clip.src
  video.muted = true
  video.preload = 'auto'
  document.body.append(video)
}
`

let root: string
let browser: Browser
let server: ViteDevServer

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vidspec-e2e-twins-'))
  await symlink(join(repoRoot, 'examples/site/node_modules'), join(root, 'node_modules'), 'dir')
  await mkdir(join(root, 'src'))
  await writeFile(join(root, 'index.html'), '<!doctype html><html><body><script type="module" src="/src/main.ts"></script></body></html>\n')
  await writeFile(join(root, 'src/main.ts'), main)
  await writeFile(join(root, 'src/one.video.ts'), spec('twins'))
  await writeFile(join(root, 'src/two.video.ts'), spec('twins'))
  server = await createServer({
    root,
    configFile: false,
    logLevel: 'warn',
    plugins: [vidspec({ provider: 'offline' })],
    server: { host: '127.0.0.1', port: 0 },
  })
  await server.listen()
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
  await rm(root, { recursive: true, force: true })
})

it('editing one of two specs with the same clip swaps only its own <video>', async () => {
  const page = await browser.newPage()
  try {
    await page.goto(`http://127.0.0.1:${(server.httpServer!.address() as AddressInfo).port}/`)
    await page.evaluate(() => ((window as unknown as { loadedOnce: number }).loadedOnce = 1))
    const srcs = async () => Object.fromEntries((await videoStates(page)).map((v) => [v.id, v.src]))
    const landed = await until('both clips landed', async () => {
      const s = await srcs()
      return Object.keys(s).length === 2 && Object.values(s).every((src) => src !== '' && !src.includes('/pending/')) && s
    }, 60_000)
    // One clip, one path; each element tagged with its own spec.
    expect(landed['video-one']!.split('#')[0]).toBe(landed['video-two']!.split('#')[0])
    expect(landed['video-one']).toMatch(/#vidspec=src%2Fone\.video\.ts$/)
    expect(landed['video-two']).toMatch(/#vidspec=src%2Ftwo\.video\.ts$/)

    const file = join(root, 'src/one.video.ts')
    await writeFile(file, (await readFile(file, 'utf8')).replace('twins', 'one alone'))
    const after = await until('one swapped', async () => {
      const s = await srcs()
      return s['video-one'] !== landed['video-one'] && !s['video-one']!.includes('/pending/') && s
    }, 60_000)
    expect(after['video-one']!.split('#')[0]).not.toBe(landed['video-one']!.split('#')[0])
    // The twin kept its element and its clip, and the page was never reloaded.
    expect(after['video-two']).toBe(landed['video-two'])
    expect(await page.evaluate(() => (window as unknown as { loadedOnce?: number }).loadedOnce)).toBe(1)
    await until('the twin still playable', async () => (await videoStates(page)).find((v) => v.id === 'video-two')!.readyState >= 2)
  } finally {
    await page.close()
  }
})
