import { createHash } from 'node:crypto'
import { chmod, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { ManifestItem } from '@vidspec/core'
import { ffmpegPath, probeVideo } from '@vidspec/core/internal'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { runCli, tempProject, type TempProject } from '../helpers/project.js'
import { startTestS3, type TestS3 } from '../helpers/s3.js'
import { FAST, togetherProject } from '../helpers/together.js'

// `vidspec build --out` ships renditions: made once from each clip with ffmpeg, cached as derived
// objects, listed in manifest.json; a second build starts no ffmpeg; a recipe edit never costs a generation.

/** An ffmpeg wrapper logging each call's arguments: encodes read an input (`-i`), version questions do not. */
async function loggingFfmpeg(dir: string): Promise<{ path: string; calls(): Promise<string[]> }> {
  const log = join(dir, 'ffmpeg-args.log')
  const path = join(dir, 'ffmpeg-logging.sh')
  await writeFile(log, '')
  await writeFile(path, `#!/bin/sh\necho "$*" >> "${log}"\nexec "${ffmpegPath()}" "$@"\n`)
  await chmod(path, 0o755)
  return { path, calls: async () => (await readFile(log, 'utf8')).split('\n').filter(Boolean) }
}
const encodes = (calls: string[]): string[] => calls.filter((c) => / -i /.test(` ${c}`))

const sha256 = async (file: string): Promise<string> => createHash('sha256').update(await readFile(file)).digest('hex')

type Manifest = { version: number; clips: ManifestItem[] }

describe('build --out with renditions (offline clips)', () => {
  let p: TempProject
  let ffmpeg: Awaited<ReturnType<typeof loggingFfmpeg>>
  const spec = (renditions: string) =>
    "import { defineVideo } from '@vidspec/core'\n" +
    `export default defineVideo({ model: 'google/veo-3.0-audio', prompt: 'forest', seconds: 1, width: 160, height: 90, fps: 12, generate_audio: true${renditions} })\n`
  beforeAll(async () => {
    p = await tempProject({
      'vidspec.config.ts': "export default { provider: 'offline', previews: 'allow', renditions: { formats: ['webm', 'mp4'], widths: [96, 'original'] } }\n",
      'hero.video.ts': spec(''),
    })
    ffmpeg = await loggingFfmpeg(p.root)
  })
  afterAll(async () => {
    await p?.dispose()
  })
  const build = async (out: string) => {
    const r = await runCli(['build', '--json', '--out', out], { cwd: p.root, env: { VIDSPEC_FFMPEG: ffmpeg.path } })
    return { ...r, json: r.stdout ? (JSON.parse(r.stdout) as { counts: Record<string, number> }) : undefined }
  }

  it('writes every rendition and poster beside the clip and lists them in manifest.json', async () => {
    const r = await build('out')
    expect(r.code, r.stderr).toBe(0)
    const manifest = JSON.parse(await p.read('out/manifest.json')) as Manifest
    expect(manifest.version).toBe(1)
    const [clip] = manifest.clips
    if (!clip) throw new Error('no clip')
    // The clip itself still ships as before.
    expect(clip).toMatchObject({ spec: 'hero.video.ts', file: 'hero.mp4', width: 160, height: 90, preview: true })
    expect(clip.sources?.map((s) => [s.id, s.file, s.width, s.height])).toEqual([
      ['webm-160w', 'hero.webm-160w.webm', 160, 90],
      ['webm-96w', 'hero.webm-96w.webm', 96, 54],
      ['mp4-160w', 'hero.mp4-160w.mp4', 160, 90],
      ['mp4-96w', 'hero.mp4-96w.mp4', 96, 54],
    ])
    for (const s of clip.sources ?? []) {
      const file = p.path('out', s.file)
      expect((await stat(file)).size, s.file).toBe(s.bytes)
      expect(await sha256(file), s.file).toBe(s.digest)
      const probed = await probeVideo(file)
      expect([probed.codec, probed.width, probed.height, probed.hasAudio], s.file).toEqual([s.id.startsWith('webm') ? 'vp9' : 'h264', s.width, s.height, true])
      expect(s.type).toMatch(s.id.startsWith('webm') ? /^video\/webm; codecs="vp9, opus"$/ : /^video\/mp4; codecs="avc1\.[0-9a-f]{6}, mp4a\.40\.2"$/)
    }
    expect(clip.posters?.map((x) => [x.id, x.file, x.type])).toEqual([['poster-0s-jpg', 'hero.poster-0s-jpg.jpg', 'image/jpeg']])
    expect([...(await readFile(p.path('out', 'hero.poster-0s-jpg.jpg'))).subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff])
    expect(clip.placeholder).toMatch(/^data:image\/jpeg;base64,[A-Za-z0-9+/=]+$/)
    expect((clip.placeholder?.length ?? 0) < 2000).toBe(true)
    const status = JSON.parse((await runCli(['status', '--json'], { cwd: p.root, env: { VIDSPEC_FFMPEG: ffmpeg.path } })).stdout)
    expect(status.renditions.count).toBe(6)
  })

  it('a second build --out starts no ffmpeg at all and writes the same files', async () => {
    const before = (await ffmpeg.calls()).length
    const r = await build('out2')
    expect(r.code, r.stderr).toBe(0)
    expect((await ffmpeg.calls()).slice(before)).toEqual([])
    expect((await readdir(p.path('out2'))).sort()).toEqual((await readdir(p.path('out'))).sort())
    for (const name of await readdir(p.path('out'))) {
      if (name !== 'manifest.json') expect(await sha256(p.path('out2', name)), name).toBe(await sha256(p.path('out', name)))
    }
  })

  it('a no-op build --out into the same folder ships what it shipped without looking again, and rewrites a file edited there', async () => {
    const manifest = await p.read('out/manifest.json')
    const inodes = new Map(await Promise.all((await readdir(p.path('out'))).map(async (n) => [n, (await stat(p.path('out', n))).ino] as const)))
    // The store's rendition records out of the way: only what the out folder remembers can answer.
    await rename(p.path('.vidspec/derived'), p.path('.vidspec/derived-away'))
    const before = (await ffmpeg.calls()).length
    try {
      const r = await build('out')
      expect(r.code, r.stderr).toBe(0)
      expect(await p.read('out/manifest.json')).toBe(manifest)
      for (const [name, ino] of inodes) if (name !== 'manifest.json') expect((await stat(p.path('out', name))).ino, name).toBe(ino)
    } finally {
      await rm(p.path('.vidspec/derived'), { recursive: true, force: true })
      await rename(p.path('.vidspec/derived-away'), p.path('.vidspec/derived'))
    }
    // One byte flipped in a shipped rendition, its size and mtime kept: written again, right.
    const [clip] = (JSON.parse(manifest) as Manifest).clips
    const webm = clip?.sources?.find((s) => s.id === 'webm-96w')
    if (!webm) throw new Error('no webm-96w')
    const file = p.path('out', webm.file)
    const { mtime } = await stat(file)
    const bytes = await readFile(file)
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff
    await writeFile(file, bytes)
    await utimes(file, mtime, mtime)
    const r = await build('out')
    expect(r.code, r.stderr).toBe(0)
    expect(await sha256(file)).toBe(webm.digest)
    expect(await p.read('out/manifest.json')).toBe(manifest)
    expect(encodes((await ffmpeg.calls()).slice(before))).toEqual([])
  })

  it("a spec's renditions edit re-encodes only what changed and never generates again", async () => {
    await p.write('hero.video.ts', spec(", renditions: { formats: ['mp4'], widths: [64, 96], poster: false }"))
    const before = (await ffmpeg.calls()).length
    const r = await build('out3')
    expect(r.code, r.stderr).toBe(0)
    expect(r.json?.counts).toMatchObject({ generated: 0, cached: 1 })
    const made = encodes((await ffmpeg.calls()).slice(before))
    // mp4-96w is the same recipe as before (stored); only mp4-64w is new.
    expect(made).toHaveLength(1)
    expect(made[0]).toMatch(/scale=64:36/)
    const [clip] = (JSON.parse(await p.read('out3/manifest.json')) as Manifest).clips
    expect(clip?.sources?.map((s) => s.id)).toEqual(['mp4-96w', 'mp4-64w'])
    expect(clip?.posters).toEqual([])
  })
})

describe('renditions through the remote cache (renditions.remote: true)', () => {
  const API_KEY = 'tg-renditions-remote-5c1e9a7b'
  let fake: FakeTogether
  let s3: TestS3
  const projects: TempProject[] = []
  beforeAll(async () => {
    fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 50 })
    s3 = await startTestS3()
  })
  afterEach(async () => {
    await Promise.all(projects.splice(0).map((x) => x.dispose()))
  })
  afterAll(async () => {
    await s3?.close()
    await fake?.close()
  })

  it('one machine makes a rendition and shares it; another fetches it, digest-verified, without encoding', async () => {
    const config = {
      ...FAST,
      remote: { s3: { bucket: s3.bucket, prefix: 'site', endpoint: s3.endpoint } },
      renditions: { formats: ['webm'], widths: [96], poster: false, placeholder: false, remote: true },
    }
    const a = await togetherProject(1, config)
    const b = await togetherProject(1, config)
    projects.push(a, b)
    const env = { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: undefined, ...s3.env }
    const first = await runCli(['build', '--json', '--out', 'out'], { cwd: a.root, env, timeoutMs: 60_000 })
    expect(first.code, first.stderr).toBe(0)
    const keys = await s3.keys()
    expect(keys.filter((k) => k.startsWith('site/derived/'))).toHaveLength(1)

    const ffmpeg = await loggingFfmpeg(b.root)
    const second = await runCli(['build', '--json', '--out', 'out'], { cwd: b.root, env: { ...env, VIDSPEC_FFMPEG: ffmpeg.path }, timeoutMs: 60_000 })
    expect(second.code, second.stderr).toBe(0)
    expect(JSON.parse(second.stdout).counts).toMatchObject({ generated: 0, cached: 1 })
    expect(encodes(await ffmpeg.calls())).toEqual([])
    const [ma, mb] = await Promise.all([a.read('out/manifest.json'), b.read('out/manifest.json')].map(async (t) => (JSON.parse(await t) as Manifest).clips[0]))
    expect(mb?.sources).toEqual(ma?.sources)
    expect(await sha256(b.path('out', mb?.sources?.[0]?.file ?? ''))).toBe(mb?.sources?.[0]?.digest)
    // One generation in all: the first machine's.
    expect(fake.creates).toBe(1)
  })
})
