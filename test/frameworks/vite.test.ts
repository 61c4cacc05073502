import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { exampleDir, fileForUrl, listFiles, mediaUrls } from './harness.js'
import { describeExample } from './suite.js'

// Plain Vite 6, 7 and 8, each building a browser bundle and an SSR bundle in one `vite build --app`
// (the environment API), both importing the same clips, with base '/sub/'.
for (const major of [6, 7, 8]) {
  describeExample({
    name: `vite${major}`,
    base: '/sub/',
    outDir: 'dist/client',
    pages: {},
    clean: ['dist', '.vidspec'],
    build: ['node_modules/vite/bin/vite.js', 'build', '--app'],
    dev: (port) => ['node_modules/vite/bin/vite.js', '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
    devProbe: 'src/videos/hero.video.ts',
  })
}

describe('plain Vite: the SSR bundle renders the same URLs as the browser bundle', () => {
  for (const major of [6, 7, 8]) {
    it(`vite${major}`, async () => {
      const dir = exampleDir(`vite${major}`)
      const server = (await import(pathToFileURL(join(dir, 'dist/server/entry-server.js')).href)) as { render(): string }
      const html = server.render()
      const urls = mediaUrls(html)
      expect(urls).toHaveLength(4)
      const client = (await listFiles(join(dir, 'dist/client/assets'))).filter((f) => f.endsWith('.js'))
      const clientCode = (await Promise.all(client.map((f) => readFile(join(dir, 'dist/client/assets', f), 'utf8')))).join('\n')
      for (const url of urls) {
        expect(await fileForUrl(url, '/sub/', join(dir, 'dist/client')), url).toBeDefined()
        expect(clientCode, `the browser bundle names ${url} too`).toContain(url)
      }
    })
  }
})
