import { readFile } from 'node:fs/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ffmpegPath, probeVideo, Store } from '@vidspec/core/internal'
import { setEnv } from '../helpers/env.js'
import { tempProject, type TempProject } from '../helpers/project.js'
import { fetchAsset, recordingFfmpeg, specSource, startDev, type DevServer } from '../helpers/vite.js'
import { until } from '../helpers/wait.js'

// Tiny clips: what is under test is the plugin, not the renderer.
const spec = (prompt: string, extra = '') =>
  specSource(`{ model: 'minimax/hailuo-02', prompt: ${prompt}, seconds: 1, width: 160, height: 90, fps: 10${extra} }`)
const brand = `export const look = 'teal'\n`

// Dev URLs end with the spec they belong to (#vidspec=<id>), so HMR swaps only that spec's elements.
const RENDITION_URL = /^\/@vidspec\/r\/[A-Za-z0-9_-]+\.mp4#vidspec=[^#]+$/

let project: TempProject
let ffmpeg: Awaited<ReturnType<typeof recordingFfmpeg>>
let dev: DevServer | undefined
let restoreEnv = () => {}

beforeAll(async () => {
  project = await tempProject({
    'brand.ts': brand,
    'a.video.ts': spec("`alpha ${look}`", '').replace("from '@vidspec/core'\n", "from '@vidspec/core'\nimport { look } from './brand'\n"),
    'b.video.ts': spec("`beta ${look}`").replace("from '@vidspec/core'\n", "from '@vidspec/core'\nimport { look } from './brand'\n"),
    'c.video.ts': spec("'gamma'"),
    'index.html': '<!doctype html><script type="module" src="/main.ts"></script>',
  })
  ffmpeg = await recordingFfmpeg(project.root, ffmpegPath(), {})
  restoreEnv = setEnv({ VIDSPEC_FFMPEG: ffmpeg.path })
})
afterAll(async () => {
  restoreEnv()
  await project.dispose()
})

describe('vite dev', () => {
  afterEach(async () => {
    await ffmpeg.release()
    await dev?.close()
    dev = undefined
  })

  it('answers a spec import at once with a pending stand-in, then sends the clip by HMR', async () => {
    await ffmpeg.hold()
    dev = await startDev(project.root, { provider: 'offline', concurrency: 1 })
    const pending = await fetchAsset(`${dev.url}/c.video.ts`)
    expect(pending).toMatchObject({ pending: true, width: 160, height: 90, duration: 1, fps: 10, type: 'video/mp4' })
    expect(pending.src).toMatch(/^\/@vidspec\/pending\/[A-Za-z0-9_-]+\.mp4#vidspec=[^#]+$/)
    // The module came back while the render it started is held.
    const store = new Store(project.path('.vidspec'))
    expect(await store.getEntry(pending.key!)).toBeUndefined()
    await ffmpeg.release()

    await until('an HMR update of c.video.ts', () => dev!.updatedPaths().includes('/c.video.ts'))
    expect(dev.hmr.some((p) => p.type === 'full-reload')).toBe(false)
    const ready = await fetchAsset(`${dev.url}/c.video.ts`)
    expect(ready).toMatchObject({ pending: false, preview: true, key: pending.key, width: 160, height: 90 })
    // The default rendition (one fast-start MP4) and poster, by rendition key: made on first request.
    expect(ready.src).toMatch(RENDITION_URL)
    expect(ready.sources).toEqual([expect.objectContaining({ src: ready.src, width: 160, height: 90, type: expect.stringMatching(/^video\/mp4; codecs="avc1\./) })])
    expect(ready.poster).toMatch(/^\/@vidspec\/r\/[A-Za-z0-9_-]+\.jpg#vidspec=[^#]+$/)

    const clip = await fetch(`${dev.url}${ready.src}`)
    expect(clip.status).toBe(200)
    expect(clip.headers.get('content-type')).toMatch(/^video\/mp4/)
    const poster = await fetch(`${dev.url}${ready.poster}`)
    expect(poster.headers.get('content-type')).toBe('image/jpeg')
    expect([...new Uint8Array(await poster.arrayBuffer()).slice(0, 2)]).toEqual([0xff, 0xd8])
  })

  it('makes a rendition on the first request for it (the master meanwhile), then serves it with Range', async () => {
    dev = await startDev(project.root, { provider: 'offline' })
    const asset = await until('c stored', async () => {
      const a = await fetchAsset(`${dev!.url}/c.video.ts?w=96&format=webm;mp4`)
      return !a.pending && a
    })
    expect(asset.sources?.map((s) => s.type.split(';')[0])).toEqual(['video/webm', 'video/mp4'])
    expect(asset.sources?.map((s) => [s.width, s.height])).toEqual([[96, 54], [96, 54]])
    const webm = asset.sources![0]!
    const key = /\/r\/([A-Za-z0-9_-]+)\.webm/.exec(webm.src)![1]!
    const record = () => readFile(project.path('.vidspec', 'derived', `${key}.json`), 'utf8').then((t) => JSON.parse(t) as { digest: string; ext: string; size: number }, () => undefined)
    expect(await record()).toBeUndefined()
    // The first request starts the encode and is answered at once, by the master (revalidated).
    const first = await fetch(`${dev.url}${webm.src}`)
    expect(first.status).toBe(200)
    expect(first.headers.get('cache-control')).toBe('no-cache')
    await first.arrayBuffer()
    const made = await until('the rendition made', record)
    expect(made.ext).toBe('webm')
    const bytes = await readFile(project.path('.vidspec', 'objects', `${made.digest}.webm`))
    expect(await probeVideo(project.path('.vidspec', 'objects', `${made.digest}.webm`))).toMatchObject({ width: 96, height: 54, codec: 'vp9' })
    // Then the rendition itself, immutable, byte ranges included.
    const whole = await fetch(`${dev.url}${webm.src}`)
    expect(whole.headers.get('cache-control')).toMatch(/immutable/)
    expect(whole.headers.get('content-type')).toMatch(/^video\/webm/)
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true)
    const part = await fetch(`${dev.url}${webm.src}`, { headers: { Range: 'bytes=10-99' } })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes 10-99/${bytes.length}`)
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(10, 100))).toBe(true)
  })

  it('re-keys only what an edit changes, and an edit that supersedes a job not yet started cancels it', async () => {
    const rendersAtStart = await ffmpeg.renders()
    await ffmpeg.hold()
    dev = await startDev(project.root, { provider: 'offline', concurrency: 1 })
    // a is taken first and held mid-render; b waits behind it (one job at a time).
    const a0 = await fetchAsset(`${dev.url}/a.video.ts`)
    await until('a rendering', async () => (await ffmpeg.renders()) > rendersAtStart)
    const before = { a: a0, b: await fetchAsset(`${dev.url}/b.video.ts`) }
    expect(before.a.pending).toBe(true)
    expect(before.b.pending).toBe(true)

    // Edit b while a renders and b waits for its turn: b's old key must never be rendered.
    await project.write('b.video.ts', (await project.read('b.video.ts')).replace('beta', 'beta two'))
    await until('b re-keyed', async () => {
      const now = await fetchAsset(`${dev!.url}/b.video.ts`)
      return now.key !== before.b?.key && now
    })
    await ffmpeg.release()
    await until('a and the new b landed', async () => {
      const a = await fetchAsset(`${dev!.url}/a.video.ts`)
      const b = await fetchAsset(`${dev!.url}/b.video.ts`)
      return !a.pending && !b.pending
    })
    const store = new Store(project.path('.vidspec'))
    expect(await store.getEntry(before.b!.key!)).toBeUndefined()
    expect((await ffmpeg.renders()) - rendersAtStart, dev.logger.text()).toBe(2)

    // The shared module re-keys a and b, not c.
    await until('c stored', async () => !(await fetchAsset(`${dev!.url}/c.video.ts`)).pending)
    const [a1, b1, c] = await Promise.all(['a', 'b', 'c'].map((n) => fetchAsset(`${dev!.url}/${n}.video.ts`)))
    const rendersBefore = await ffmpeg.renders()
    const updatesBefore = dev.updatedPaths().length
    await project.write('brand.ts', `export const look = 'amber'\n`)
    await until('a and b regenerated under new keys', async () => {
      const a = await fetchAsset(`${dev!.url}/a.video.ts`)
      const b = await fetchAsset(`${dev!.url}/b.video.ts`)
      return a.key !== a1!.key && b.key !== b1!.key && !a.pending && !b.pending
    })
    await new Promise((r) => setTimeout(r, 300))
    expect((await ffmpeg.renders()) - rendersBefore).toBe(2)
    expect(await fetchAsset(`${dev.url}/c.video.ts`)).toEqual(c)
    expect(dev.updatedPaths().slice(updatesBefore)).not.toContain('/c.video.ts')
  })
})

describe('vite dev: renditions outlive no server', () => {
  let other: TempProject | undefined
  const servers: DevServer[] = []
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close()
    await other?.dispose()
    other = undefined
  })

  // Rendition keys are shared by the dev servers of one process (a framework lists a rendition in
  // one server and serves it from another); a closed server's project must not stay behind there.
  it('a closed server\'s renditions pass to a live server of the same store, and to no other project', async () => {
    const first = await startDev(project.root, { provider: 'offline' })
    servers.push(first)
    const asset = await until('c stored', async () => {
      const a = await fetchAsset(`${first.url}/c.video.ts?w=64`)
      return !a.pending && a
    })
    const url = asset.sources![0]!.src.split('#')[0]!
    await until('the rendition made', async () => {
      const res = await fetch(`${first.url}${url}`)
      await res.arrayBuffer()
      return /immutable/.test(res.headers.get('cache-control') ?? '')
    })

    // A second server over the same project (as Nuxt runs two) still answers once the first closes.
    const twin = await startDev(project.root, { provider: 'offline' })
    servers.push(twin)
    await first.close()
    servers.splice(servers.indexOf(first), 1)
    const kept = await fetch(`${twin.url}${url}`)
    expect(kept.status).toBe(200)
    expect(kept.headers.get('cache-control')).toMatch(/immutable/)
    await kept.arrayBuffer()

    // Once no server of that project is left, a server of another project does not answer it.
    other = await tempProject({ 'index.html': '<!doctype html>' })
    const stranger = await startDev(other.root, { provider: 'offline' })
    servers.push(stranger)
    await twin.close()
    servers.splice(servers.indexOf(twin), 1)
    expect((await fetch(`${stranger.url}${url}`)).status).toBe(404)
  })
})

describe('vite dev: two specs with the same clip', () => {
  afterEach(async () => {
    await dev?.close()
    dev = undefined
  })

  it('get URLs of their own, and editing one updates only that one', async () => {
    await using p = await tempProject({ 'one.video.ts': spec("'twin'"), 'two.video.ts': spec("'twin'"), 'index.html': '<!doctype html>' })
    dev = await startDev(p.root, { provider: 'offline' })
    const landed = (name: string) => until(`${name} stored`, async () => {
      const a = await fetchAsset(`${dev!.url}/${name}.video.ts`)
      return !a.pending && a
    })
    const [one, two] = [await landed('one'), await landed('two')]
    // Same key, same bytes, one stored clip: the path is shared, the spec tag is not.
    expect(one.key).toBe(two.key)
    expect(one.src.split('#')[0]).toBe(two.src.split('#')[0])
    expect(one.src).toMatch(/#vidspec=one\.video\.ts$/)
    expect(two.src).toMatch(/#vidspec=two\.video\.ts$/)
    const updates = dev.updatedPaths().length
    await p.write('one.video.ts', spec("'twin, edited'"))
    const edited = await until('one regenerated', async () => {
      const a = await fetchAsset(`${dev!.url}/one.video.ts`)
      return a.key !== one.key && !a.pending && a
    })
    expect(edited.src).toMatch(/#vidspec=one\.video\.ts$/)
    expect(await fetchAsset(`${dev.url}/two.video.ts`)).toEqual(two)
    expect(dev.updatedPaths().slice(updates)).toContain('/one.video.ts')
    expect(dev.updatedPaths().slice(updates)).not.toContain('/two.video.ts')
  })
})

describe('vite dev with a broken spec', () => {
  afterEach(async () => {
    await dev?.close()
    dev = undefined
  })

  it('answers the import with an error naming the file, field and value, keeps serving, and recovers when fixed', async () => {
    await project.write('bad.video.ts', spec("'bad'", ', steps: 99'))
    dev = await startDev(project.root, { provider: 'offline' })
    const res = await fetch(`${dev.url}/bad.video.ts`)
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(text).toMatch(/bad\.video\.ts/)
    expect(text).toMatch(/steps/)
    expect(text).toMatch(/99/)
    // The server is still up, and a good spec still loads.
    expect((await fetchAsset(`${dev.url}/c.video.ts`)).width).toBe(160)
    await project.write('bad.video.ts', spec("'bad'", ', steps: 30'))
    const fixed = await until('the fixed spec loads', async () => {
      try {
        return await fetchAsset(`${dev!.url}/bad.video.ts`)
      } catch {
        return undefined
      }
    })
    expect(fixed.width).toBe(160)
  })
})

describe('dev middleware: Range', () => {
  let src: string
  let bytes: Buffer
  let etag: string

  beforeAll(async () => {
    dev = await startDev(project.root, { provider: 'offline' })
    const asset = await until('a stored clip', async () => {
      const a = await fetchAsset(`${dev!.url}/c.video.ts`)
      return !a.pending && a
    })
    // The master clip's own URL (content-addressed), which the renditions stand in for.
    const store = new Store(project.path('.vidspec'))
    const digest = (await store.getEntry(asset.key!))!.digest
    src = `${dev.url}/@vidspec/${digest}.mp4`
    expect(src).toMatch(/\/@vidspec\/[0-9a-f]{64}\.mp4$/)
    etag = `"${digest}"`
    bytes = await readFile(store.objectPath(digest, 'mp4'))
    expect(bytes.length).toBeGreaterThan(1000)
    expect((await probeVideo(store.objectPath(digest, 'mp4'))).duration).toBeCloseTo(1, 1)
  })
  afterAll(async () => {
    await dev?.close()
    dev = undefined
  })
  const get = (headers: Record<string, string> = {}, method = 'GET') => fetch(src, { headers, method })
  const body = async (res: Response) => Buffer.from(await res.arrayBuffer())
  const common = (res: Response) => {
    expect(res.headers.get('content-type')).toBe('video/mp4')
    expect(res.headers.get('accept-ranges')).toBe('bytes')
    expect(res.headers.get('etag')).toBe(etag)
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
  }

  it('full body', async () => {
    const res = await get()
    expect(res.status).toBe(200)
    common(res)
    expect(res.headers.get('content-length')).toBe(String(bytes.length))
    expect(res.headers.get('content-range')).toBeNull()
    expect((await body(res)).equals(bytes)).toBe(true)
  })

  it('bytes=a-b', async () => {
    const res = await get({ range: 'bytes=10-109' })
    expect(res.status).toBe(206)
    common(res)
    expect(res.headers.get('content-range')).toBe(`bytes 10-109/${bytes.length}`)
    expect(res.headers.get('content-length')).toBe('100')
    expect((await body(res)).equals(bytes.subarray(10, 110))).toBe(true)
  })

  it('open range bytes=a-', async () => {
    const start = bytes.length - 333
    const res = await get({ range: `bytes=${start}-` })
    expect(res.status).toBe(206)
    expect(res.headers.get('content-range')).toBe(`bytes ${start}-${bytes.length - 1}/${bytes.length}`)
    expect(res.headers.get('content-length')).toBe('333')
    expect((await body(res)).equals(bytes.subarray(start))).toBe(true)
  })

  it('suffix range bytes=-N, and one longer than the file', async () => {
    const res = await get({ range: 'bytes=-500' })
    expect(res.status).toBe(206)
    expect(res.headers.get('content-range')).toBe(`bytes ${bytes.length - 500}-${bytes.length - 1}/${bytes.length}`)
    expect((await body(res)).equals(bytes.subarray(bytes.length - 500))).toBe(true)
    const all = await get({ range: `bytes=-${bytes.length + 10}` })
    expect(all.status).toBe(206)
    expect(all.headers.get('content-range')).toBe(`bytes 0-${bytes.length - 1}/${bytes.length}`)
    expect((await body(all)).equals(bytes)).toBe(true)
  })

  it('an end past the file is clipped to it', async () => {
    const res = await get({ range: `bytes=5-${bytes.length + 1000}` })
    expect(res.status).toBe(206)
    expect(res.headers.get('content-range')).toBe(`bytes 5-${bytes.length - 1}/${bytes.length}`)
    expect((await body(res)).equals(bytes.subarray(5))).toBe(true)
  })

  it('416 when unsatisfiable', async () => {
    for (const range of [`bytes=${bytes.length}-`, `bytes=${bytes.length + 5}-${bytes.length + 9}`, 'bytes=-0']) {
      const res = await get({ range })
      expect(res.status, range).toBe(416)
      expect(res.headers.get('content-range')).toBe(`bytes */${bytes.length}`)
      expect((await body(res)).length).toBe(0)
    }
  })

  it('HEAD, conditional requests and If-Range', async () => {
    const head = await get({ range: 'bytes=0-9' }, 'HEAD')
    expect(head.status).toBe(206)
    expect(head.headers.get('content-length')).toBe('10')
    expect((await body(head)).length).toBe(0)
    expect((await get({ 'if-none-match': etag })).status).toBe(304)
    // A Range for another version of the file gets the whole current one.
    const stale = await get({ range: 'bytes=0-9', 'if-range': '"0000"' })
    expect(stale.status).toBe(200)
    expect((await body(stale)).equals(bytes)).toBe(true)
    const fresh = await get({ range: 'bytes=0-9', 'if-range': etag })
    expect(fresh.status).toBe(206)
  })

  it('unknown URLs are 404, other methods 405, never an error page', async () => {
    for (const path of [
      '/@vidspec/' + '0'.repeat(64) + '.mp4',
      '/@vidspec/poster/' + '1'.repeat(64) + '.jpg',
      '/@vidspec/pending/nokey.mp4',
      '/@vidspec/..%2f..%2fetc%2fpasswd',
      '/@vidspec/whatever',
    ]) {
      const res = await fetch(`${dev!.url}${path}`)
      expect(res.status, path).toBe(404)
      expect(await res.text()).toMatch(/^vidspec: /)
    }
    expect((await fetch(src, { method: 'POST' })).status).toBe(405)
    expect(dev!.logger.text()).not.toMatch(/serving .*:/)
  })
})

describe('vite dev: local media', () => {
  afterEach(async () => {
    await dev?.close()
    dev = undefined
  })

  it('replacing a first-frame image outside the root (media.allow) re-keys exactly the spec that uses it', async () => {
    const png = await readFile(new URL('../../examples/site/src/assets/first-frame.png', import.meta.url))
    await using shared = await tempProject({ 'first.png': png })
    const framed = (prompt: string) => spec(prompt, `, media: { frame_images: [{ input_image: ${JSON.stringify(shared.path('first.png'))}, frame: 'first' }] }`)
    await using p = await tempProject({
      'vidspec.config.ts': `export default { media: { allow: [${JSON.stringify(shared.root)}] } }\n`,
      'framed.video.ts': framed("'framed'"),
      'plain.video.ts': spec("'plain'"),
      'index.html': '<!doctype html>',
    })
    dev = await startDev(p.root, { provider: 'offline' })
    const landed = (name: string, not?: string) =>
      until(`${name} stored`, async () => {
        const a = await fetchAsset(`${dev!.url}/${name}.video.ts`)
        return !a.pending && a.key !== not && a
      })
    const [framedBefore, plain] = [await landed('framed'), await landed('plain')]
    const updates = dev.updatedPaths().length
    await shared.write('first.png', Buffer.concat([png, Buffer.from('other bytes after the image end')]))
    const framedAfter = await landed('framed', framedBefore.key).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${dev!.logger.text()}`)
    })
    expect(framedAfter.key).not.toBe(framedBefore.key)
    expect(await fetchAsset(`${dev.url}/plain.video.ts`)).toEqual(plain)
    expect(dev.updatedPaths().slice(updates)).toContain('/framed.video.ts')
    expect(dev.updatedPaths().slice(updates)).not.toContain('/plain.video.ts')
  })
})
