import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { build } from 'vite'
import vidspec from '@vidspec/vite'
import { type Entry } from '@vidspec/core'
import { probeVideo } from '@vidspec/core/internal'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { entries, flipByte, forgeStamp, objectFile, quarantined, sha256, sha256File, truncateHalf } from '../helpers/corrupt.js'
import { setEnv } from '../helpers/env.js'
import { runCli, type CliResult, type TempProject } from '../helpers/project.js'
import { startTestS3, type TestS3 } from '../helpers/s3.js'
import { FAST, journals, togetherProject } from '../helpers/together.js'
import { captureLogger, fetchAsset, startDev } from '../helpers/vite.js'
import { until } from '../helpers/wait.js'

// Nothing corrupt leaves the store: a clip whose bytes no longer match its digest is never served,
// copied to --out, emitted by vite build, served by the dev server or pushed. It is quarantined
// (kept, never deleted) and its paid job is journaled again, so getting a good copy back costs
// nothing: the counts below are creates (paid jobs) and corrupt bytes that reached an output.

const API_KEY = 'tg-integrity-5b1e9c3d7a2f4e60'

let fake: FakeTogether
const projects: TempProject[] = []
let corruptServed = 0

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 40 })
})
afterAll(async () => {
  await fake?.close()
  // Printed for the report: every scenario below counts what reached an output.
  console.info(`integrity-out: corrupt bytes served ${corruptServed}`)
})
afterEach(async () => {
  await Promise.all(projects.splice(0).map((p) => p.dispose()))
  fake.reset()
})

const env = (extra: Record<string, string> = {}) => ({ TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: undefined, ...extra })
const cli = (p: TempProject, args: string[], extra: Record<string, string> = {}): Promise<CliResult> =>
  runCli(args, { cwd: p.root, env: env(extra), timeoutMs: 60_000 })

/** A paid project built once: one create, one download, one entry. */
async function built(config: object = FAST, files: Record<string, string> = {}) {
  const p = await togetherProject(1, config)
  projects.push(p)
  for (const [path, text] of Object.entries(files)) await p.write(path, text)
  const first = await cli(p, ['build'])
  expect(first.code, first.stderr).toBe(0)
  const store = p.path('.vidspec')
  const [entry] = await entries(store)
  if (!entry) throw new Error('no entry after the first build')
  expect(fake.creates).toBe(1)
  return { p, store, entry, object: objectFile(store, entry), good: await readFile(objectFile(store, entry)) }
}

/** What can happen to a stored clip: a flip that no stat can see (the stamp vouches for it), and a truncation. */
const DAMAGES = [
  [
    'one byte flipped, invisible to stat',
    async (store: string, e: Entry, object: string) => {
      await flipByte(object)
      await forgeStamp(store, e)
    },
  ],
  ['truncated', async (_store: string, _e: Entry, object: string) => truncateHalf(object)],
] as const

/** Every output file that exists is checked against the good bytes; a mismatch counts as served. */
async function countServed(files: string[], digest: string): Promise<void> {
  for (const f of files) if ((await sha256File(f)) !== digest) corruptServed++
}

/** The derived record (`.vidspec/derived/*.json`) whose object hashes to `digest`, if any. */
async function derivedOf(p: TempProject, digest: string): Promise<{ master: string; kind: string; digest: string } | undefined> {
  const dir = p.path('.vidspec', 'derived')
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const rec = JSON.parse(await readFile(join(dir, name), 'utf8')) as { master: string; kind: string; digest: string }
    if (rec.digest === digest) return rec
  }
  return undefined
}

/** Counts a shipped file that is neither the good master nor a stored rendition of it as corrupt. */
async function countServedRenditions(p: TempProject, files: string[], master: string): Promise<void> {
  for (const f of files) {
    const digest = await sha256File(f)
    if (digest !== master && (await derivedOf(p, digest))?.master !== master) corruptServed++
  }
}

describe('--out', () => {
  for (const [name, damage] of [
    ['one byte flipped (same size, same mtime)', flipByte],
    ['truncation', truncateHalf],
  ] as const) {
    it(`${name}: caught by the no-op check, quarantined, the same paid job downloaded again, never copied out`, async () => {
      const { p, store, entry, object } = await built()
      await damage(object)
      const damaged = await sha256File(object)

      const r = await cli(p, ['build', '--out', 'out', '--json'])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toMatch(/clip-0\.video\.ts: the stored clip .* is corrupt .*quarantine.*downloads it again from job .* without paying again/)
      // The bad bytes are kept in quarantine, not deleted; a good copy came from the same job.
      const [q] = await quarantined(store)
      expect(q && (await sha256File(q))).toBe(damaged)
      expect(fake.creates).toBe(1)
      expect(fake.downloads).toBe(2)
      const out = p.path('out', 'clip-0.mp4')
      await countServed([out], entry.digest)
      expect(await sha256File(out)).toBe(entry.digest)
      expect(await sha256File(object)).toBe(entry.digest)
      expect(await journals(store)).toEqual([])
    })
  }

  it('a flip no stat can see is caught by the hash on the way out: that spec fails, nothing copied, rerun says and does what to do', async () => {
    const { p, store, entry, object } = await built()
    await flipByte(object)
    await forgeStamp(store, entry)

    const r = await cli(p, ['build', '--out', 'out', '--json'])
    expect(r.code).toBe(1)
    const spec = JSON.parse(r.stdout).specs[0]
    expect(spec).toMatchObject({ status: 'failed', error: { code: 'CACHE_CORRUPT' } })
    expect(spec.error.message).toMatch(/the next `vidspec build` downloads it again from job \S+ without paying again/)
    expect(await readdir(p.path('out'))).toEqual(['manifest.json'])
    expect(JSON.parse(await p.read('out/manifest.json')).clips).toEqual([])
    expect(await quarantined(store)).toHaveLength(1)
    expect(await entries(store)).toEqual([])

    // In CI (--frozen by default) too: downloading a job already paid for is not a paid generation.
    const again = await cli(p, ['build', '--out', 'out'], { CI: 'true' })
    expect(again.code, again.stderr).toBe(0)
    await countServed([p.path('out', 'clip-0.mp4')], entry.digest)
    expect(await sha256File(p.path('out', 'clip-0.mp4'))).toBe(entry.digest)
    expect(fake.creates).toBe(1)
  })
})

describe('vite build and the dev server', () => {
  const site = {
    'index.html': '<!doctype html><body><script type="module" src="/main.ts"></script></body>',
    'main.ts': "import clip from './clip-0.video'\ndocument.body.dataset.clip = JSON.stringify(clip)\n",
  }
  let restoreEnv = () => {}
  beforeAll(() => {
    restoreEnv = setEnv({ CI: undefined })
  })
  afterAll(() => restoreEnv())

  async function viteBuild(root: string) {
    await build({
      root,
      configFile: false,
      logLevel: 'silent',
      customLogger: captureLogger(),
      plugins: [vidspec({})],
      build: { outDir: 'dist', emptyOutDir: true },
    })
    const dir = join(root, 'dist', 'assets')
    return (await readdir(dir)).filter((f) => /\.(mp4|webm)$/.test(f)).map((f) => join(dir, f))
  }

  // A flip no stat can see fails the build on the way out; a truncation is caught by the no-op check
  // first and the same job is downloaded again. Either way no corrupt byte ships and nothing is paid twice.
  for (const [name, damage] of DAMAGES) {
    it(`vite build never emits a corrupt clip (${name}); the good one ships without paying again`, async () => {
      const { p, store, entry, object } = await built(FAST, site)
      await damage(store, entry, object)
      const restore = setEnv({ TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL })
      try {
        // What ships is the default rendition (a fast-start remux), made from the master after its
        // bytes were hashed: good only when it is a stored derived object of the good master.
        const first = await viteBuild(p.root).catch((err: Error) => err)
        if (first instanceof Error) expect(first.message).toMatch(/is corrupt.*quarantine/)
        else await countServedRenditions(p, first, entry.digest)
        expect(await quarantined(store)).toHaveLength(1)
        const clips = await viteBuild(p.root)
        expect(clips).toHaveLength(1)
        await countServedRenditions(p, clips, entry.digest)
        expect(await derivedOf(p, await sha256File(clips[0] as string))).toMatchObject({ master: entry.digest, kind: 'video' })
        expect(fake.creates).toBe(1)
      } finally {
        restore()
      }
    })

    it(`the dev server never serves a corrupt clip (${name}): quarantined, said in the log`, async () => {
      const { p, store, entry, object } = await built()
      await damage(store, entry, object)
      const restore = setEnv({ TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL })
      const dev = await startDev(p.root, {})
      try {
        const asset = await fetchAsset(`${dev.url}/clip-0.video.ts`)
        const served = async (src: string) => {
          const res = await fetch(new URL(src, dev.url))
          const body = Buffer.from(await res.arrayBuffer())
          // The good clip itself (while its rendition is made), or a stored rendition of it.
          const digest = sha256(body)
          if (res.status === 200 && digest !== entry.digest && (await derivedOf(p, digest))?.master !== entry.digest) corruptServed++
          return res.status
        }
        if (asset.pending) {
          // Caught by the no-op check before anything was served: the page waits while the same job is
          // downloaded again, then gets the good clip.
          const landed = await until('the clip downloaded again', async () => {
            const a = await fetchAsset(`${dev.url}/clip-0.video.ts`)
            return !a.pending && a
          })
          expect(await served(landed.src)).toBe(200)
        } else {
          // Caught on the way out: refused.
          expect(await served(asset.src)).toBe(404)
        }
        expect(await quarantined(store)).toHaveLength(1)
        expect(dev.logger.text()).toMatch(/is corrupt.*quarantine/)
        expect(fake.creates).toBe(1)
      } finally {
        await dev.close()
        restore()
      }
    })
  }
})

describe('push', () => {
  let s3: TestS3
  beforeAll(async () => {
    s3 = await startTestS3()
  })
  afterAll(async () => {
    await s3?.close()
  })

  for (const [name, damage] of DAMAGES) {
  it(`never uploads a corrupt clip (${name}): that clip fails, nothing reaches the bucket, quarantined`, async () => {
    const config = { ...FAST, remote: { s3: { bucket: s3.bucket, prefix: 'site', endpoint: s3.endpoint } } }
    const p = await togetherProject(1, config)
    projects.push(p)
    const first = await cli(p, ['build'], { ...s3.env, VIDSPEC_REMOTE_MODE: 'off' })
    expect(first.code, first.stderr).toBe(0)
    const store = p.path('.vidspec')
    const [entry] = await entries(store)
    await damage(store, entry!, objectFile(store, entry!))

    const r = await cli(p, ['push', '--json'], s3.env)
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toMatchObject({ pushed: [], failed: [{ key: entry!.key, error: expect.stringMatching(/is corrupt/) }] })
    const uploaded = (await s3.keys()).filter((k) => k.includes('objects/'))
    for (const k of uploaded) if (sha256(Buffer.from(await s3.getText(k), 'latin1')) !== entry!.digest) corruptServed++
    expect(uploaded).toEqual([])
    expect(await quarantined(store)).toHaveLength(1)
    // The clip is still there to be had: probe what the next build downloads again, for free.
    const again = await cli(p, ['build'], { ...s3.env, VIDSPEC_REMOTE_MODE: 'off' })
    expect(again.code, again.stderr).toBe(0)
    expect(fake.creates).toBe(1)
    expect((await probeVideo(objectFile(store, entry!))).duration).toBeGreaterThan(0)
  })
  }
})
