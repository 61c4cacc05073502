import { createHash } from 'node:crypto'
import { cp, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { build as viteBuild } from 'vite'
import vidspec from '@vidspec/vite'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { setEnv } from '../helpers/env.js'
import { startTestS3 } from '../helpers/s3.js'
import { runCli, tempProject, type TempProject } from '../helpers/project.js'
import { FAST } from '../helpers/together.js'
import { captureLogger } from '../helpers/vite.js'

// A teammate's and a CI job's day: the author pays once and commits vidspec.lock.json; everyone
// else, with the cache restored but no API key (a fork's pull-request CI has none by design), ships
// exactly the approved clips and never a preview, and only a changed spec asks for the key.

const API_KEY = 'teammate-key-0123456789'
const spec = (prompt: string, seconds: number) =>
  "import { defineVideo } from '@vidspec/core'\n" +
  `export default defineVideo({ model: 'minimax/hailuo-02', prompt: ${JSON.stringify(prompt)}, seconds: ${seconds}, width: 1366, height: 768 })\n`
// `auto`: what a project gets by default; the key must not decide which clips it ships.
const CONFIG = `export default ${JSON.stringify({ ...FAST, provider: 'auto' })}\n`
const SOURCES = {
  'vidspec.config.ts': CONFIG,
  'src/videos/hero.video.ts': spec('hero', 1),
  'src/videos/loop.video.ts': spec('loop', 2),
  'index.html': '<!doctype html><script type="module" src="/main.ts"></script>',
  'main.ts': "import hero from './src/videos/hero.video'\nimport loop from './src/videos/loop.video'\nconsole.log(hero, loop)\n",
}

let fake: FakeTogether
let author: TempProject
let teammate: TempProject
let lock: { specs: Record<string, { digest: string; provider: string }> }

const requests = () => fake.creates + fake.polls + fake.downloads
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex')

/** The teammate has no key; the base URL points at the fake so any request would be counted. */
function keyless(p: TempProject, args: string[], env: Record<string, string | undefined> = {}) {
  return runCli(args, { cwd: p.root, env: { TOGETHER_BASE_URL: fake.baseURL, CI: undefined, ...env } })
}

async function viteBuildIn(root: string, env: Record<string, string | undefined>) {
  const restore = setEnv({ TOGETHER_API_KEY: undefined, TOGETHER_BASE_URL: fake.baseURL, ...env })
  try {
    const logger = captureLogger()
    await viteBuild({ root, configFile: false, logLevel: 'info', customLogger: logger, plugins: [vidspec()], build: { outDir: 'dist', emptyOutDir: true } })
    const assets = join(root, 'dist', 'assets')
    const clips = (await readdir(assets)).filter((f) => f.endsWith('.mp4'))
    // What ships is each clip's default rendition: named here by the master it was made from.
    const derived = new Map<string, string>()
    for (const name of await readdir(join(root, '.vidspec', 'derived')).catch(() => [] as string[])) {
      const rec = JSON.parse(await readFile(join(root, '.vidspec', 'derived', name), 'utf8')) as { digest: string; master: string }
      derived.set(rec.digest, rec.master)
    }
    const shipped = await Promise.all(clips.map((f) => sha256(join(assets, f))))
    return { logger, digests: shipped.map((d) => derived.get(d) ?? d) }
  } finally {
    restore()
  }
}

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 40, clip: 'request' })
  author = await tempProject(SOURCES)
  const paid = await runCli(['build'], { cwd: author.root, env: { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: undefined } })
  expect(paid.code, paid.stderr).toBe(0)
  expect(fake.creates).toBe(2)
  lock = JSON.parse(await author.read('vidspec.lock.json'))
  // A clone of the repository (sources and lockfile) with the CI cache of objects/ restored: no entries.
  teammate = await tempProject({ ...SOURCES, 'vidspec.lock.json': await author.read('vidspec.lock.json') })
  await cp(author.path('.vidspec', 'objects'), teammate.path('.vidspec', 'objects'), { recursive: true })
  fake.reset()
})
afterAll(async () => {
  await fake.close()
  await author?.dispose()
  await teammate?.dispose()
})

describe('without TOGETHER_API_KEY, the approved paid clips', () => {
  it('are what plan, status, build --out, verify and gc see and use, with zero requests', async () => {
    const approved = Object.values(lock.specs).map((c) => c.digest).sort()
    expect(new Set(approved).size).toBe(2)

    const plan = await keyless(teammate, ['plan', '--json'])
    expect(plan.code, plan.stderr).toBe(0)
    const planned = JSON.parse(plan.stdout)
    expect(planned.provider).toBe('together')
    expect(planned.specs.map((s: { status: string }) => s.status)).toEqual(['cached', 'cached'])

    const status = await keyless(teammate, ['status', '--json'])
    expect(status.code, status.stderr).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({ provider: 'together', specs: { cached: 2, new: 0, changed: 0 } })

    const built = await keyless(teammate, ['build', '--out', 'out', '--json'])
    expect(built.code, built.stderr).toBe(0)
    const result = JSON.parse(built.stdout)
    expect(result).toMatchObject({ provider: 'together', counts: { cached: 2, generated: 0, failed: 0 } })
    expect(result.specs.every((s: { preview: boolean }) => s.preview === false)).toBe(true)
    const manifest = JSON.parse(await teammate.read('out/manifest.json'))
    const shipped = await Promise.all(manifest.clips.map((c: { file: string }) => sha256(teammate.path('out', c.file))))
    expect(shipped.sort()).toEqual(approved)

    expect((await keyless(teammate, ['build'], { CI: 'true' })).code).toBe(0)
    const verify = await keyless(teammate, ['verify'])
    expect(verify.code, verify.stdout).toBe(0)
    const gc = await keyless(teammate, ['gc', '--json'])
    expect(gc.code, gc.stderr).toBe(0)
    for (const digest of approved) await readFile(teammate.path('.vidspec', 'objects', `${digest}.mp4`))
    expect(requests()).toBe(0)
  })

  it('are what vite build and CI=true vite build ship (their renditions, made from those bytes), with zero requests', async () => {
    const approved = Object.values(lock.specs).map((c) => c.digest).sort()
    for (const CI of [undefined, 'true']) {
      const { logger, digests } = await viteBuildIn(teammate.root, { CI })
      expect(digests.sort()).toEqual(approved)
      expect(logger.text()).not.toMatch(/OFFLINE PREVIEW/)
    }
    expect(requests()).toBe(0)
  })
})

describe('without the key and without a local cache, a fork\'s CI', () => {
  it('fetches the approved clips from the remote cache (read-only) and ships them, with zero creates', async () => {
    const s3 = await startTestS3()
    const remote = { s3: { bucket: s3.bucket, endpoint: s3.endpoint, forcePathStyle: true } }
    const config = `export default ${JSON.stringify({ ...FAST, provider: 'auto', remote })}\n`
    const paidBy = await tempProject({ ...SOURCES, 'vidspec.config.ts': config })
    const fork = await tempProject({ ...SOURCES, 'vidspec.config.ts': config })
    try {
      const env = { TOGETHER_BASE_URL: fake.baseURL, CI: undefined, ...s3.env }
      const paid = await runCli(['build'], { cwd: paidBy.root, env: { ...env, TOGETHER_API_KEY: API_KEY } })
      expect(paid.code, paid.stderr).toBe(0)
      const pinned = await paidBy.read('vidspec.lock.json')
      await fork.write('vidspec.lock.json', pinned)
      const creates = fake.creates
      const ci = await runCli(['build', '--out', 'out', '--json'], { cwd: fork.root, env: { ...env, CI: 'true', VIDSPEC_REMOTE_MODE: 'read-only' } })
      expect(ci.code, ci.stderr).toBe(0)
      expect(JSON.parse(ci.stdout)).toMatchObject({ provider: 'together', counts: { cached: 2, generated: 0 } })
      const manifest = JSON.parse(await fork.read('out/manifest.json'))
      const shipped = await Promise.all(manifest.clips.map((c: { file: string }) => sha256(fork.path('out', c.file))))
      const approved = Object.values((JSON.parse(pinned) as typeof lock).specs).map((c) => c.digest)
      expect(shipped.sort()).toEqual(approved.sort())
      expect(fake.creates).toBe(creates)
    } finally {
      await paidBy.dispose()
      await fork.dispose()
      await s3.close()
      fake.reset()
    }
  })
})

describe('a spec that needs a new generation asks for the key', () => {
  it('exits 3 under CI naming it, is PROVIDER_AUTH otherwise, and fails CI=true vite build, never sending a request', async () => {
    const p = await tempProject({ ...SOURCES, 'vidspec.lock.json': JSON.stringify(lock) })
    try {
      await cp(teammate.path('.vidspec', 'objects'), p.path('.vidspec', 'objects'), { recursive: true })
      await p.write('src/videos/loop.video.ts', spec('loop, edited', 2))

      const ci = await keyless(p, ['build'], { CI: 'true' })
      expect(ci.code, ci.stderr).toBe(3)
      expect(ci.stderr).toMatch(/--frozen: 1 spec needs a paid generation[\s\S]*src\/videos\/loop\.video\.ts/)
      expect(ci.stderr).not.toMatch(/ {2}- src\/videos\/hero\.video\.ts/)

      const local = await keyless(p, ['build', '--json'])
      expect(local.code, local.stderr).toBe(1)
      const bySpec = Object.fromEntries(JSON.parse(local.stdout).specs.map((s: { spec: string }) => [s.spec, s]))
      expect(bySpec['src/videos/hero.video.ts']).toMatchObject({ status: 'cached' })
      expect(bySpec['src/videos/loop.video.ts'].error).toMatchObject({ code: 'PROVIDER_AUTH' })
      expect(bySpec['src/videos/loop.video.ts'].error.message).toMatch(/^src\/videos\/loop\.video\.ts: needs a new generation[\s\S]*TOGETHER_API_KEY/)

      await expect(viteBuildIn(p.root, { CI: 'true' })).rejects.toThrow(/frozen[\s\S]*src\/videos\/loop\.video\.ts/)
      await expect(viteBuildIn(p.root, { CI: undefined })).rejects.toThrow(/loop\.video\.ts: needs a new generation/)
      expect(requests()).toBe(0)
    } finally {
      await p.dispose()
    }
  })

  it("leaves a first-time user with provider 'auto', no key and no paid clip on free offline previews", async () => {
    const p = await tempProject({ 'vidspec.config.ts': CONFIG, 'a.video.ts': spec('first', 1) })
    try {
      const plan = await keyless(p, ['plan', '--json'])
      expect(JSON.parse(plan.stdout).provider).toBe('offline')
      const built = await keyless(p, ['build', '--json'])
      expect(built.code, built.stderr).toBe(0)
      expect(JSON.parse(built.stdout).specs[0]).toMatchObject({ status: 'generated', preview: true })
      expect(requests()).toBe(0)
    } finally {
      await p.dispose()
    }
  })
})
