import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { build, type InlineConfig } from 'vite'
import vidspec, { type VidspecPluginOptions } from '@vidspec/vite'
import { ffmpegPath, probeVideo } from '@vidspec/core/internal'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { setEnv } from '../helpers/env.js'
import { tempProject, type TempProject } from '../helpers/project.js'
import { FAST, togetherProject } from '../helpers/together.js'
import { captureLogger, recordingFfmpeg, specSource } from '../helpers/vite.js'

const spec = (prompt: string, extra = '') =>
  specSource(`{ model: 'minimax/hailuo-02', prompt: '${prompt}', seconds: 1, width: 160, height: 90, fps: 10${extra} }`)
const main = `import hero from './hero.video'
import loop from './loop.video.ts'
import again from './hero-again.video'
document.body.dataset.clips = JSON.stringify([hero, loop, again])
`

async function viteBuild(root: string, options: VidspecPluginOptions, extra: InlineConfig = {}) {
  const logger = captureLogger()
  await build({
    root,
    configFile: false,
    logLevel: 'info',
    customLogger: logger,
    plugins: [vidspec(options)],
    build: { outDir: 'dist', emptyOutDir: true },
    ...extra,
  })
  const files = await readdir(join(root, 'dist', extra.build?.assetsDir ?? 'assets'))
  const js = await readFile(join(root, 'dist', extra.build?.assetsDir ?? 'assets', files.find((f) => f.endsWith('.js'))!), 'utf8')
  return { logger, files, js }
}

describe('vite build with the offline provider', () => {
  let project: TempProject
  let ffmpeg: Awaited<ReturnType<typeof recordingFfmpeg>>
  let restoreEnv = () => {}

  beforeAll(async () => {
    project = await tempProject({
      'index.html': '<!doctype html><body><script type="module" src="/main.ts"></script></body>',
      'main.ts': main,
      'hero.video.ts': spec('hero'),
      // Same request, so the same key and clip: emitted once.
      'hero-again.video.ts': spec('hero'),
      'loop.video.ts': spec('loop', ", output_format: 'WEBM'"),
    })
    ffmpeg = await recordingFfmpeg(project.root, ffmpegPath())
    restoreEnv = setEnv({ VIDSPEC_FFMPEG: ffmpeg.path })
  })
  afterAll(async () => {
    restoreEnv()
    await project.dispose()
  })

  it("refuses to ship previews with previews: 'error', naming each spec, before rendering anything", async () => {
    await expect(viteBuild(project.root, { previews: 'error', provider: 'offline' })).rejects.toThrow(
      /would ship offline previews[\s\S]*hero\.video\.ts[\s\S]*loop\.video\.ts/,
    )
    expect(await ffmpeg.renders()).toBe(0)
  })

  it("previews: 'error' is the default when CI=true", async () => {
    const restoreCi = setEnv({ CI: 'true' })
    try {
      await expect(viteBuild(project.root, { provider: 'offline' })).rejects.toThrow(/previews is 'error'/)
    } finally {
      restoreCi()
    }
    expect(await ffmpeg.renders()).toBe(0)
  })

  it('generates what is missing and emits hashed clips and posters, never inlined, under base', async () => {
    const { logger, files, js } = await viteBuild(project.root, { provider: 'offline', previews: 'warn' }, { base: '/sub/' })
    expect(await ffmpeg.renders()).toBe(2)
    expect(logger.text()).toMatch(/THIS BUILD SHIPS 3 OFFLINE PREVIEW\(S\)/)
    expect(logger.text()).toMatch(/\(2 of 2 generated\)/)
    expect(logger.text()).not.toMatch(/\(3 of/)

    // The default rendition: one fast-start MP4 per clip (the WebM master encoded to H.264).
    const clips = files.filter((f) => /\.(mp4|webm)$/.test(f)).sort()
    expect(clips).toEqual([expect.stringMatching(/^hero(-again)?-[\w-]{8}\.mp4$/), expect.stringMatching(/^loop-[\w-]{8}\.mp4$/)])
    expect(files.filter((f) => f.endsWith('.jpg'))).toHaveLength(2)
    expect(js).not.toMatch(/data:video/)
    for (const f of [...clips, ...files.filter((f) => f.endsWith('.jpg'))]) expect(js).toContain(`/sub/assets/${f}`)

    // The emitted clip is a stored, checked rendition, byte for byte, and plays as the spec says.
    const heroFile = project.path('dist/assets', clips[0]!)
    const heroBytes = await readFile(heroFile)
    const objects = await readdir(project.path('.vidspec/objects'))
    expect(await Promise.all(objects.map(async (o) => (await readFile(project.path('.vidspec/objects', o))).equals(heroBytes)))).toContain(true)
    expect(await probeVideo(heroFile)).toMatchObject({ width: 160, height: 90, codec: 'h264' })
    expect(await probeVideo(project.path('dist/assets', clips[1]!))).toMatchObject({ width: 160, height: 90, codec: 'h264' })
    expect(js).toMatch(/"?sources"?:\s*\[/)
    expect(js.match(/placeholder.{0,60}/)?.[0]).toMatch(/placeholder"?:\s*["`]data:image\//)
    const poster = await readFile(project.path('dist/assets', files.find((f) => f.startsWith('hero') && f.endsWith('.jpg'))!))
    expect([...poster.subarray(0, 2)]).toEqual([0xff, 0xd8])

    // The page gets the asset objects: sizes and durations from the clip, URLs from the bundler.
    expect(js).toMatch(/"?width"?:\s*160/)
    expect(js).toMatch(/"?duration"?:\s*1\b/)
  })

  it('a second build renders nothing, and assetsDir is respected', async () => {
    const before = await ffmpeg.renders()
    const { files, js } = await viteBuild(project.root, { provider: 'offline', previews: 'allow' }, { build: { outDir: 'dist', assetsDir: 'media', emptyOutDir: true } })
    expect(await ffmpeg.renders()).toBe(before)
    const clip = files.find((f) => f.endsWith('.mp4'))!
    expect(js).toContain(`/media/${clip}`)
  })
})

it('a build importing an invalid spec fails naming the file, the field, the value and what is allowed', async () => {
  await using project = await tempProject({
    'index.html': '<!doctype html><script type="module" src="/main.ts"></script>',
    'main.ts': "import bad from './bad.video'\nconsole.log(bad)\n",
    'bad.video.ts': specSource("{ model: 'minimax/hailuo-02', prompt: 'x', seconds: 1, width: 160, height: 90, ratio: '2:1' }"),
  })
  const err = await viteBuild(project.root, { provider: 'offline', previews: 'allow' }).then(
    () => new Error('the build passed'),
    (e: Error) => e,
  )
  expect(err.message).toMatch(/bad\.video\.ts: 1 problem\s+- ratio: one of "16:9", "9:16", "1:1", "4:3", "3:4" \(got "2:1"\)/)
})

it('an import with a bad rendition directive fails naming the importing file, the directive, the value and what is allowed', async () => {
  await using project = await tempProject({
    'index.html': '<!doctype html><script type="module" src="/main.ts"></script>',
    'main.ts': "import hero from './hero.video?w=wide&format=webm;gif&vidspec'\nconsole.log(hero)\n",
    'hero.video.ts': specSource("{ model: 'minimax/hailuo-02', prompt: 'x', seconds: 1, width: 160, height: 90 }"),
  })
  const err = await viteBuild(project.root, { provider: 'offline', previews: 'allow' }).then(
    () => new Error('the build passed'),
    (e: Error) => e,
  )
  const message = err.message.replace(/\\"/g, '"')
  expect(message).toMatch(/main\.ts: import directives: 2 problems/)
  expect(message).toMatch(/- \?w: widths in pixels .*\(got "wide"\)/)
  expect(message).toMatch(/- \?format: formats separated by ";", each one of mp4, webm, av1.*\(got "webm;gif"\)/)
})

describe('vite build with Together', () => {
  const KEY = 'tg-build-0123456789abcdef'
  let restoreEnv = () => {}
  let fake: FakeTogether
  let project: TempProject

  beforeAll(async () => {
    fake = await startFakeTogether({ apiKey: KEY, jobDurationMs: 200, maxConcurrentJobs: 2 })
    restoreEnv = setEnv({ TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: fake.baseURL })
    project = await togetherProject(4, { ...FAST, concurrency: 2 })
    await project.write('index.html', '<!doctype html><script type="module" src="/main.ts"></script>')
    await project.write(
      'main.ts',
      [0, 1, 2, 3].map((i) => `import c${i} from './clip-${i}.video'`).join('\n') + '\nconsole.log(c0, c1, c2, c3)\n',
    )
  })
  afterAll(async () => {
    restoreEnv()
    await fake.close()
    await project.dispose()
  })

  it('generates each missing clip once within the concurrency limit, passes previews: error, and pays nothing the second time', async () => {
    const first = await viteBuild(project.root, { previews: 'error', frozen: false })
    expect(fake.creates).toBe(4)
    expect([...fake.createsByPrompt.values()]).toEqual([1, 1, 1, 1])
    expect(fake.maxInFlight).toBeLessThanOrEqual(2)
    // Four keys, four stored entries; the fake serves one clip, so one emitted file.
    expect((await readdir(project.path('.vidspec/entries'))).filter((f) => f.endsWith('.json'))).toHaveLength(4)
    expect(first.files.filter((f) => f.endsWith('.mp4'))).toHaveLength(1)
    expect(first.logger.text()).not.toMatch(/OFFLINE PREVIEW/)

    await viteBuild(project.root, { previews: 'error', frozen: false })
    expect(fake.creates).toBe(4)
  })
})
