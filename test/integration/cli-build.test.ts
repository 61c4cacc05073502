import { readdir, readFile, rm, stat, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ffmpegPath, probeVideo, Store } from '@vidspec/core/internal'
import { countingFfmpeg, runCli, tempProject, type TempProject } from '../helpers/project.js'

// Tiny clips keep the suite fast; the example site renders the realistic sizes.
const brand = `export const brand = { look: 'teal and amber', steps: 20 }\n`
const spec = (body: string, withBrand = true) =>
  `import { defineVideo } from '@vidspec/core'\n${withBrand ? "import { brand } from './shared/brand'\n" : ''}export default defineVideo(${body})\n`

const specs: Record<string, string> = {
  'hero.video.ts': spec(`{ model: 'minimax/hailuo-02', prompt: \`forest, \${brand.look}\`, seconds: 1, width: 160, height: 90, fps: 12, steps: brand.steps, seed: 1 }`),
  'pages/about.video.ts': spec(`{ model: 'minimax/hailuo-02', prompt: \`team, \${brand.look}\`, seconds: 2, width: 128, height: 96, fps: 10, seed: 2 }`).replace('./shared', '../shared'),
  'loop.video.ts': spec(`{ model: 'google/veo-3.0', prompt: \`ink, \${brand.look}\`, seconds: 1, width: 160, height: 90, fps: 12, output_format: 'WEBM' }`),
  'product.video.ts': spec(`{ model: 'minimax/hailuo-02', prompt: 'product spin', seconds: 1, width: 96, height: 96, fps: 12, media: { frame_images: [{ input_image: './frame.png', frame: 'first' }] } }`, false),
  'teaser.video.ts': spec(`{ model: 'Wan-AI/wan2.7-t2v', prompt: 'coastal town', resolution: '720P', ratio: '1:1', seconds: 2 }`, false),
}

let project: TempProject
let ffmpeg: Awaited<ReturnType<typeof countingFfmpeg>>
let env: Record<string, string>

async function build(...args: string[]) {
  const before = await ffmpeg.count()
  const result = await runCli(['build', '--json', ...args], { cwd: project.root, env })
  const json = result.stdout ? JSON.parse(result.stdout) : undefined
  return { ...result, json, renders: (await ffmpeg.count()) - before }
}

/**
 * Every file in the project's store but the memos, with what a rewrite would change. A memo learns a
 * file only once it has settled (RACY_MS), so whether a build still adds to it depends on the clock.
 */
async function storeFiles(): Promise<Record<string, string>> {
  const dir = project.path('.vidspec')
  const out: Record<string, string> = {}
  for (const rel of await readdir(dir, { recursive: true })) {
    if (rel.startsWith('memo')) continue
    const s = await stat(join(dir, rel))
    if (s.isFile()) out[rel] = `ino ${s.ino} size ${s.size} mtime ${s.mtimeMs}`
  }
  return out
}

async function plan() {
  const result = await runCli(['plan', '--json'], { cwd: project.root, env })
  const json = JSON.parse(result.stdout) as { specs: Array<{ spec: string; status: string; changes?: Array<{ path: string }> }> }
  return { code: result.code, bySpec: Object.fromEntries(json.specs.map((s) => [s.spec, s])) }
}

beforeAll(async () => {
  // This offline project ships its previews with --out knowingly (CI=true would refuse them).
  // Renditions off: every ffmpeg run counted here is a generation (cli-renditions.test.ts covers them).
  project = await tempProject({ ...specs, 'shared/brand.ts': brand, 'vidspec.config.ts': "export default { previews: 'allow', renditions: false }\n" })
  await project.write('frame.png', await readFile(join(import.meta.dirname, '../../examples/site/src/assets/first-frame.png')))
  ffmpeg = await countingFfmpeg(project.root, ffmpegPath())
  env = { VIDSPEC_FFMPEG: ffmpeg.path }
})

afterAll(async () => {
  await project?.dispose()
})

describe('vidspec build (offline) end to end', () => {
  it('plans every spec as new before the first build', async () => {
    const { code, bySpec } = await plan()
    expect(code).toBe(0)
    expect(Object.values(bySpec).map((s) => s.status)).toEqual(['new', 'new', 'new', 'new', 'new'])
  })

  it('builds five valid clips, and --out writes them with a manifest', async () => {
    const r = await build('--out', 'out')
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.counts).toEqual({ generated: 5, cached: 0, failed: 0, invalid: 0, blocked: 0 })
    expect(r.renders).toBe(5)
    const manifest = JSON.parse(await project.read('out/manifest.json'))
    expect(manifest.clips.map((c: { file: string }) => c.file).sort()).toEqual([
      'hero.mp4',
      'loop.webm',
      'pages/about.mp4',
      'product.mp4',
      'teaser.mp4',
    ])
    // renditions: false ships the clips only.
    expect(manifest.clips.some((c: { sources?: unknown; posters?: unknown }) => c.sources !== undefined || c.posters !== undefined)).toBe(false)
    const expected: Record<string, { width: number; height: number; duration: number; codec: string }> = {
      'hero.mp4': { width: 160, height: 90, duration: 1, codec: 'h264' },
      'pages/about.mp4': { width: 128, height: 96, duration: 2, codec: 'h264' },
      'loop.webm': { width: 160, height: 90, duration: 1, codec: 'vp9' },
      'product.mp4': { width: 96, height: 96, duration: 1, codec: 'h264' },
      'teaser.mp4': { width: 960, height: 960, duration: 2, codec: 'h264' },
    }
    for (const [file, want] of Object.entries(expected)) {
      const probed = await probeVideo(project.path('out', file))
      expect(probed.width, file).toBe(want.width)
      expect(probed.height, file).toBe(want.height)
      expect(probed.codec, file).toBe(want.codec)
      expect(Math.abs(probed.duration - want.duration), file).toBeLessThan(0.2)
      const clip = manifest.clips.find((c: { file: string }) => c.file === file)
      expect(clip).toMatchObject({ width: want.width, height: want.height, preview: true })
      expect((await stat(project.path('out', file))).size).toBe(clip.size)
    }
  })

  it('does no work on a second build, and rewrites no record in the store', async () => {
    const r = await build()
    expect(r.code).toBe(0)
    expect(r.renders).toBe(0)
    expect(r.json.counts).toEqual({ generated: 0, cached: 5, failed: 0, invalid: 0, blocked: 0 })
    // Once the index has caught up with the first build (the build above), a build leaves every
    // record as it was (inode, size, mtime): none rewritten per spec with nothing new.
    const before = await storeFiles()
    expect((await build()).code).toBe(0)
    expect(await storeFiles()).toEqual(before)
    const { bySpec } = await plan()
    expect(Object.values(bySpec).every((s) => s.status === 'cached')).toBe(true)
    const status = await runCli(['status', '--json'], { cwd: project.root, env })
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({
      provider: 'offline',
      specs: { cached: 5, new: 0, changed: 0, invalid: 0 },
      store: { entries: 5, objects: 5, previews: 5 },
      inFlight: [],
    })
  })

  it('regenerates exactly the edited spec, and plan names the changed field', async () => {
    await project.write('hero.video.ts', specs['hero.video.ts']!.replace('seed: 1', 'seed: 9'))
    const { bySpec } = await plan()
    expect(bySpec['hero.video.ts']?.status).toBe('changed')
    expect(bySpec['hero.video.ts']?.changes?.map((c) => c.path)).toEqual(['seed'])
    expect(bySpec['loop.video.ts']?.status).toBe('cached')
    const r = await build()
    expect(r.renders).toBe(1)
    expect(r.json.counts).toMatchObject({ generated: 1, cached: 4 })
  })

  it('regenerates exactly the specs that import an edited shared module', async () => {
    await project.write('shared/brand.ts', brand.replace('teal and amber', 'black and white'))
    const { bySpec } = await plan()
    const changed = Object.values(bySpec).filter((s) => s.status === 'changed').map((s) => s.spec).sort()
    expect(changed).toEqual(['hero.video.ts', 'loop.video.ts', 'pages/about.video.ts'])
    expect(bySpec['loop.video.ts']?.changes?.map((c) => c.path)).toEqual(['prompt'])
    const r = await build()
    expect(r.renders).toBe(3)
    expect(r.json.counts).toMatchObject({ generated: 3, cached: 2 })
  })

  it('reports a broken spec with exit 2 while the others still build', async () => {
    await project.write('broken.video.ts', spec(`{ model: 'minimax/hailuo-02', prompt: 'x', steps: 99, seconds: 1, width: 160, height: 90 }`, false))
    await project.write('product.video.ts', specs['product.video.ts']!.replace("'product spin'", "'product spin, slower'"))
    const r = await build()
    expect(r.code).toBe(2)
    expect(r.json.counts).toMatchObject({ generated: 1, cached: 4, invalid: 1 })
    const broken = r.json.specs.find((s: { spec: string }) => s.spec === 'broken.video.ts')
    expect(broken.error.code).toBe('SPEC_INVALID')
    expect(broken.error.message).toContain('broken.video.ts')
    expect(broken.error.message).toContain('steps')
    expect(broken.error.message).toContain('99')
    const { code, bySpec } = await plan()
    expect(code).toBe(2)
    expect(bySpec['broken.video.ts']?.status).toBe('invalid')
    await rm(project.path('broken.video.ts'))
  })

  it('finds a truncated object with verify, and the next build regenerates it', async () => {
    const current = await build()
    const hero = current.json.specs.find((s: { spec: string }) => s.spec === 'hero.video.ts')
    const victim = project.path('.vidspec', 'objects', hero.object)
    await truncate(victim, Math.floor((await stat(victim)).size / 2))
    const verify = await runCli(['verify', '--json'], { cwd: project.root, env })
    expect(verify.code).toBe(1)
    const report = JSON.parse(verify.stdout)
    expect(report.corrupt.length).toBeGreaterThanOrEqual(1)
    const r = await build()
    expect(r.code).toBe(0)
    expect(r.renders).toBe(1)
    expect(r.json.counts).toMatchObject({ generated: 1, cached: 4, failed: 0 })
    const again = await runCli(['verify'], { cwd: project.root, env })
    expect(again.code).toBe(0)
  })

  it('gc removes only what no current spec uses', async () => {
    const dry = await runCli(['gc', '--dry-run', '--json'], { cwd: project.root, env })
    expect(dry.code).toBe(0)
    const planned = JSON.parse(dry.stdout)
    // A dry run says what it would do (wouldRemove), by spec name, kind, age and size.
    expect(planned.removedEntries).toBeUndefined()
    expect(planned.wouldRemove.entries.length).toBeGreaterThan(0)
    expect(planned.wouldRemove.specs[0]).toMatchObject({ spec: expect.stringMatching(/\.video\.ts$/), kind: 'offline preview', age: 'made today' })
    const text = await runCli(['gc', '--dry-run'], { cwd: project.root, env })
    expect(text.stdout).toMatch(/^would remove {2}preview [0-9a-f]{12} \(\S+\.video\.ts, made today, \d+(\.\d)? [KM]?B\)$/m)
    expect(text.stdout).not.toContain(project.root)
    const run = await runCli(['gc', '--json'], { cwd: project.root, env })
    expect(JSON.parse(run.stdout).removedEntries).toEqual(planned.wouldRemove.entries)
    const r = await build()
    expect(r.renders).toBe(0)
    expect(r.json.counts.cached).toBe(5)
  })
})

describe('vidspec CLI usage', () => {
  it('answers --help on every command and exits 2 on bad usage', async () => {
    const dir = await tempProject()
    try {
      for (const cmd of ['build', 'plan', 'status', 'verify', 'gc']) {
        const r = await runCli([cmd, '--help'], { cwd: dir.root })
        expect(r.code, cmd).toBe(0)
        expect(r.stdout).toContain(`vidspec ${cmd}`)
      }
      expect((await runCli(['build', '--bogus'], { cwd: dir.root })).code).toBe(2)
      expect((await runCli(['build', '--concurrency', '0'], { cwd: dir.root })).code).toBe(2)
      expect((await runCli(['nope'], { cwd: dir.root })).code).toBe(2)
      // The key is needed only to spend: a spec that needs a generation asks for it, by name.
      await dir.write('a.video.ts', spec("{ model: 'minimax/hailuo-02', prompt: 'a', seconds: 1, width: 1366, height: 768 }", false))
      const noKey = await runCli(['build', '--provider', 'together'], { cwd: dir.root, env: { CI: undefined } })
      expect(noKey.code).toBe(1)
      expect(noKey.stderr).toMatch(/a\.video\.ts: needs a new generation[\s\S]*TOGETHER_API_KEY/)
    } finally {
      await dir.dispose()
    }
  })
})

describe('vidspec status', () => {
  it('lists creates whose answer was lost, with what to do about them', async () => {
    await using dir = await tempProject()
    const store = new Store(dir.path('.vidspec'))
    await store.init()
    const key = 'd'.repeat(64)
    await store.markUncertain({ version: 1, key, provider: 'together', spec: 'hero.video.ts', at: '2026-11-25T08:00:00.000Z', reason: 'connection dropped after the request was sent' })
    const json = await runCli(['status', '--json'], { cwd: dir.root })
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout).uncertain).toEqual([
      { spec: 'hero.video.ts', key, at: '2026-11-25T08:00:00.000Z', reason: 'connection dropped after the request was sent' },
    ])
    const text = await runCli(['status'], { cwd: dir.root })
    expect(text.stdout).toMatch(/uncertain hero\.video\.ts: .*check the provider's dashboard, then build --retry-uncertain/)
  })
})

describe('vidspec build of more specs than a signal has listeners by default', () => {
  it('builds and ships twelve specs twice without a MaxListenersExceededWarning', async () => {
    const files: Record<string, string> = { 'vidspec.config.ts': "export default { provider: 'offline', previews: 'allow', renditions: false }\n" }
    for (let i = 0; i < 12; i++) {
      files[`clip-${i}.video.ts`] = spec(`{ model: 'minimax/hailuo-02', prompt: 'shot ${i}', seconds: 1, width: 64, height: 64, fps: 8, seed: ${i} }`, false)
    }
    const p = await tempProject(files)
    try {
      for (const round of ['generates', 'cached']) {
        const r = await runCli(['build', '--json', '--out', 'out'], { cwd: p.root, env: { CI: '' } })
        expect(r.code, `${round}: ${r.stderr}`).toBe(0)
        expect(r.stderr, round).not.toMatch(/MaxListenersExceeded/)
      }
    } finally {
      await p.dispose()
    }
  })
})
