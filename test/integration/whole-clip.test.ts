import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { probeVideo, Store } from '@vidspec/core/internal'
import { fragmentedClip, keepFragments } from '../fake-together/container-faults.js'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { entries, objectFile, quarantined, sha256File } from '../helpers/corrupt.js'
import { runCli, type CliResult, type TempProject } from '../helpers/project.js'
import { FAST, journals, togetherProject } from '../helpers/together.js'

// A stored clip is a whole clip, and a paid clip is kept whatever container it comes in. Counted:
// creates (paid jobs) and downloads per scenario, and every stored object probed with real ffprobe.

const API_KEY = 'tg-whole-clip-3f7a1c9e5b2d8064'
const RETRIES = FAST.retry.retries

let fake: FakeTogether
const projects: TempProject[] = []

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 40 })
  await fragmentedClip(4)
})
afterAll(async () => {
  await fake?.close()
})
afterEach(async () => {
  await Promise.all(projects.splice(0).map((p) => p.dispose()))
  fake.reset()
})

const cli = (p: TempProject, args: string[]): Promise<CliResult> =>
  runCli(args, { cwd: p.root, env: { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: undefined }, timeoutMs: 60_000 })

async function project(fields: string): Promise<TempProject> {
  const p = await togetherProject(0)
  projects.push(p)
  await p.write(
    'clip.video.ts',
    `import { defineVideo } from '@vidspec/core'\nexport default defineVideo({ model: 'minimax/hailuo-02', prompt: 'a forest', width: 1366, height: 768, ${fields} })\n`,
  )
  return p
}

/** Every stored object probes as a video and hashes to its name. */
async function soundObjects(store: string): Promise<void> {
  for (const e of await entries(store)) {
    expect(await sha256File(objectFile(store, e))).toBe(e.digest)
    const probed = await probeVideo(objectFile(store, e))
    expect(probed).toMatchObject({ ext: e.ext, mime: e.mime })
    expect(probed.duration).toBeCloseTo(e.duration, 1)
  }
}

describe('a fragmented MP4 cut on a fragment boundary, sent without Content-Length', () => {
  it('is never stored as the whole clip: the same job is downloaded again, never created again', async () => {
    const p = await project('seconds: 4')
    // Every attempt of this run gets 2 of the 4 one-second fragments; the next run gets all four.
    fake.fault({ kind: 'download-fragmented', seconds: 4, keepFragments: 2, times: RETRIES + 1 })
    fake.fault({ kind: 'download-fragmented', seconds: 4, times: Infinity })

    const cut = await cli(p, ['build', '--json'])
    expect(cut.code).toBe(1)
    const spec = JSON.parse(cut.stdout).specs[0]
    expect(spec.error.message).toMatch(/incomplete: it plays 2\.00 s of the 4 s asked for \(the download had no Content-Length/)
    const store = p.path('.vidspec')
    expect(await entries(store)).toEqual([])
    expect(await journals(store)).toHaveLength(1)
    expect(fake.creates).toBe(1)
    expect(fake.downloads).toBe(RETRIES + 1)

    const whole = await cli(p, ['build', '--json'])
    expect(whole.code, whole.stderr).toBe(0)
    expect(fake.creates).toBe(1)
    const [entry] = await entries(store)
    expect(entry?.duration).toBeCloseTo(4, 1)
    await soundObjects(store)
    expect(await journals(store)).toEqual([])
  })

  it('one cut download is retried within the run: stored whole, 1 create, 2 downloads', async () => {
    const p = await project('seconds: 4')
    fake.fault({ kind: 'download-fragmented', seconds: 4, keepFragments: 2 })
    fake.fault({ kind: 'download-fragmented', seconds: 4, times: Infinity })
    const r = await cli(p, ['build'])
    expect(r.code, r.stderr).toBe(0)
    expect([fake.creates, fake.downloads]).toEqual([1, 2])
    expect((await entries(p.path('.vidspec')))[0]?.duration).toBeCloseTo(4, 1)
  })

  it('verify catches a short clip already in the store, and repair quarantines it and journals its job again', async () => {
    const p = await project('seconds: 4')
    fake.fault({ kind: 'download-fragmented', seconds: 4, times: Infinity })
    expect((await cli(p, ['build'])).code).toBe(0)
    const storeDir = p.path('.vidspec')
    const [good] = await entries(storeDir)
    // What an older vidspec stored: the cut clip under the key, as if it were whole.
    const cut = join(p.root, 'cut.mp4')
    await writeFile(cut, keepFragments(await fragmentedClip(4), 2))
    const store = new Store(storeDir)
    const tmp = store.tempPath('mp4')
    await copyFile(cut, tmp)
    const { digest: _d, size: _s, version: _v, ...meta } = good!
    const short = await store.commit(tmp, { ...meta, duration: (await probeVideo(cut)).duration })

    const check = await cli(p, ['verify', '--check-only', '--json'])
    expect(check.code).toBe(1)
    expect(JSON.parse(check.stdout).corrupt).toEqual([
      expect.objectContaining({ key: short.key, reason: expect.stringMatching(/not a whole clip: it plays 2\.00 s of the 4 s/) }),
    ])
    const repair = await cli(p, ['verify', '--json'])
    expect(JSON.parse(repair.stdout).quarantined).toHaveLength(1)
    expect(await quarantined(storeDir)).toHaveLength(1)
    expect((await journals(storeDir))[0]).toMatchObject({ key: short.key, jobId: good!.jobId })

    const rebuilt = await cli(p, ['build'])
    expect(rebuilt.code, rebuilt.stderr).toBe(0)
    expect(fake.creates).toBe(1)
    expect((await entries(storeDir))[0]?.duration).toBeCloseTo(4, 1)
    expect((await cli(p, ['verify'])).code).toBe(0)
  })
})

describe('a plain MP4 sent without Content-Length', () => {
  it('whole: stored at once; cut in its sample data: downloaded again from the same job, never stored cut', async () => {
    const p = await project('seconds: 1')
    fake.fault({ kind: 'download-no-length', bytes: 3000 })
    fake.fault({ kind: 'download-no-length', times: Infinity })
    const r = await cli(p, ['build'])
    expect(r.code, r.stderr).toBe(0)
    expect([fake.creates, fake.downloads]).toEqual([1, 2])
    await soundObjects(p.path('.vidspec'))

    const q = await project('seconds: 1, seed: 2')
    const again = await cli(q, ['build'])
    expect(again.code, again.stderr).toBe(0)
    expect([fake.creates, fake.downloads]).toEqual([2, 3])
  })
})

describe('a paid clip in another container than asked', () => {
  it('WEBM asked, MP4 received: stored once with its real format, 1 create and 1 download across two builds', async () => {
    const p = await project("seconds: 1, output_format: 'WEBM'")
    fake.fault({ kind: 'download-other-format', times: Infinity })

    const first = await cli(p, ['build', '--json'])
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).toMatch(/asked for WEBM but the provider sent a valid MP4 clip .* kept as \.mp4/)
    const store = p.path('.vidspec')
    const [entry] = await entries(store)
    expect(entry).toMatchObject({ ext: 'mp4', mime: 'video/mp4' })
    const lock = JSON.parse(await readFile(p.path('vidspec.lock.json'), 'utf8'))
    expect(lock.specs['clip.video.ts']).toMatchObject({ key: entry!.key, ext: 'mp4', mime: 'video/mp4', digest: entry!.digest })

    const second = await cli(p, ['build', '--json'])
    expect(second.code, second.stderr).toBe(0)
    expect(JSON.parse(second.stdout).specs[0]).toMatchObject({ status: 'cached', object: `${entry!.digest}.mp4` })
    expect([fake.creates, fake.downloads]).toEqual([1, 1])
    expect(await entries(store)).toHaveLength(1)
    await soundObjects(store)
  })
})
