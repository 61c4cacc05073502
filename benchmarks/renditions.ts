// Renditions (issue 16). Two figures, each a ratio against a baseline measured in the same run:
// 1. Making one rendition through vidspec (Vidspec.obtainRendition: master checked, encoded, the
//    output probed and checked, hashed, committed) against the very same ffmpeg command run directly
//    on the same master. Target ≤ 1.1× for an encode; the remux (the default) is reported too.
// 2. A no-op `vidspec build --out` of N cached specs with renditions (every rendition stored and
//    shipped) against the same build of the same specs with `renditions: false` (a twin project).
//    Target ≤ 1.05×. The build with renditions ships three files per spec instead of one (clip, MP4
//    rendition, poster) and a placeholder in the manifest.
// Usage: tsx benchmarks/renditions.ts [specs, default 20] [--rounds N]
import { spawn } from 'node:child_process'
import { chmod, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Vidspec, type RenditionItem, type RenditionsInput } from '@vidspec/core'
import { Store, ffmpegPath, probeVideo } from '@vidspec/core/internal'
import { benchArgs } from './lib/args.js'
import { benchEnv, cliPath, fail, fmt, interleave, median, ratio, report, summarize, timed } from './lib/measure.js'
import { fillStore, generateProject } from './lib/project.js'

const cli = benchArgs()
const SPECS = Number(cli.positional[0] ?? 20)
const rounds = cli.number('--rounds', 7)

function run(bin: string, args: string[]): Promise<void> {
  return new Promise((done, failed) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', failed)
    child.on('close', (code) => (code === 0 ? done() : failed(new Error(`${bin} exited ${code}: ${err.slice(-500)}`))))
  })
}

async function oneRendition(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'vidspec-bench-renditions-'))
  try {
    await writeFile(join(root, 'vidspec.config.ts'), "export default { provider: 'offline' }\n")
    // A master as a model returns it: 1280x720, 4 s, H.264 + AAC, its index at the end.
    const master = join(root, 'master.mp4')
    await run(ffmpegPath(), [
      '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=24:d=4', '-f', 'lavfi', '-i', 'sine=d=4',
      '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-y', master,
    ])
    const project = await Vidspec.open({ root })
    const store = new Store(project.config.cacheDir)
    const tmp = store.tempPath('mp4')
    await copyFile(master, tmp)
    const p = await probeVideo(master)
    const key = 'b'.repeat(64)
    await store.commit(tmp, {
      key, ext: 'mp4', mime: p.mime, width: p.width, height: p.height, duration: p.duration, fps: p.fps, codec: p.codec,
      provider: 'offline', preview: true, model: 'bench', createdAt: new Date().toISOString(), spec: 'bench.video.ts', request: { model: 'bench' },
    })

    // The command vidspec runs, captured once through a logging wrapper, then replayed directly.
    const log = join(root, 'ffmpeg-args.log')
    const wrapper = join(root, 'ffmpeg-logging.sh')
    await writeFile(wrapper, `#!/bin/sh\necho "$*" >> "${log}"\nexec "${ffmpegPath()}" "$@"\n`)
    await chmod(wrapper, 0o755)
    const measure = async (label: string, renditions: RenditionsInput): Promise<{ via: number; direct: number }> => {
      const spec = { id: 'bench.video.ts', key, renditions: { ...renditions, poster: false as const, placeholder: false } }
      const [item] = (await project.renditionPlan(spec)).sources
      if (!item) fail('no rendition planned')
      const derived = join(project.config.cacheDir, 'derived', `${item.key}.json`)
      await writeFile(log, '')
      // The same project opened with the logging ffmpeg (a project runs the ffmpeg of its own env).
      const capture = await Vidspec.open({ root, env: { ...process.env, VIDSPEC_FFMPEG: wrapper } })
      const [captured] = (await capture.renditionPlan(spec)).sources
      if (captured?.key !== item.key) fail('PRECONDITION FAILED: the logging ffmpeg gave another rendition key')
      const warm = await capture.obtainRendition(captured)
      if (warm.source !== 'made') fail(`PRECONDITION FAILED: the ${label} warm-up was not made (${warm.source})`)
      const calls = (await readFile(log, 'utf8')).split('\n').filter((l) => l.includes(' -i '))
      if (calls.length !== 1) fail(`PRECONDITION FAILED: expected one ffmpeg encode for the ${label}, saw ${calls.length}`)
      const ffmpegArgs = (calls[0] ?? '').split(' ')
      const out = join(root, `direct.${item.ext}`)
      ffmpegArgs[ffmpegArgs.length - 1] = out
      const through = async (i: RenditionItem): Promise<number> => {
        await rm(derived, { force: true })
        const start = performance.now()
        const got = await project.obtainRendition(i)
        const ms = performance.now() - start
        if (got.source !== 'made') fail(`PRECONDITION FAILED: ${label} was not made again (${got.source})`)
        return ms
      }
      const direct = async (): Promise<number> => {
        await rm(out, { force: true })
        const start = performance.now()
        await run(ffmpegPath(), ffmpegArgs)
        return performance.now() - start
      }
      const [a, b] = await interleave(rounds, () => through(item), direct)
      return { via: median(a), direct: median(b) }
    }
    const encode = await measure('mp4 640w encode', { formats: ['mp4'], widths: [640] })
    const remux = await measure('default remux', {})
    report(`One rendition of a 1280x720 4 s H.264/AAC master (median of ${rounds}, interleaved)`, [
      ['mp4 640w encode, ffmpeg directly', fmt(encode.direct)],
      ['mp4 640w encode, through vidspec', `${fmt(encode.via)}  = ${ratio(encode.via, encode.direct)} (target ≤ 1.1×)`],
      ['default remux (fast start), ffmpeg directly', fmt(remux.direct)],
      ['default remux, through vidspec (probe, checks, hash, commit)', `${fmt(remux.via)}  = ${ratio(remux.via, remux.direct)} (reported)`],
    ])
    await summarize({
      order: 90,
      measure: 'one rendition (mp4 640w encode) through vidspec vs ffmpeg directly',
      figure: `${fmt(encode.via)} vs ${fmt(encode.direct)}`,
      value: ratio(encode.via, encode.direct),
      target: '≤ 1.1×',
      met: encode.via / encode.direct <= 1.1,
    })
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

async function noOpBuild(): Promise<void> {
  // Two projects alike but for `renditions` in their config, each with its own store and memos, so the
  // two builds interleave run by run (a memo holds one config: one project switching would reload it).
  const config = (extra: string) => `export default { provider: 'offline', include: ['src/**/*.video.ts'], previews: 'allow'${extra} }\n`
  const withR = await generateProject(SPECS, config(''))
  const plain = await generateProject(SPECS, config(', renditions: false'))
  try {
    await fillStore(withR.root)
    await fillStore(plain.root)
    const env = benchEnv()
    const build = (root: string) => async (): Promise<number> => {
      const r = await timed(process.execPath, [cliPath, 'build', '--json', '--out', 'out'], { cwd: root, env, pin: true })
      if (r.code !== 0) fail(`vidspec build failed:\n${r.stderr}`)
      const counts = (JSON.parse(r.stdout) as { counts: { cached: number } }).counts
      if (counts.cached !== SPECS) fail(`PRECONDITION FAILED: not a no-op build (${JSON.stringify(counts)})`)
      return r.ms
    }
    // Warm-up: the first build with renditions makes them; every later one finds them stored and shipped.
    await build(withR.root)()
    await build(plain.root)()
    const manifest = JSON.parse(await readFile(join(withR.root, 'out/manifest.json'), 'utf8')) as { clips: Array<{ sources?: unknown[] }> }
    if (!manifest.clips.every((c) => (c.sources?.length ?? 0) > 0)) fail('PRECONDITION FAILED: the build with renditions shipped none')
    const [ra, rb] = await interleave(rounds, build(withR.root), build(plain.root))
    const a = median(ra)
    const b = median(rb)
    report(`No-op vidspec build --out, ${SPECS} cached specs (median of ${rounds} fresh processes each, interleaved)`, [
      ['renditions: false (the clips only)', fmt(b)],
      ['default renditions (fast-start MP4 + poster + placeholder, all stored)', `${fmt(a)}  = ${ratio(a, b)} (target ≤ 1.05×)`],
    ])
    await summarize({
      order: 91,
      measure: `no-op vidspec build --out, ${SPECS} specs, renditions vs none`,
      figure: `${fmt(a)} vs ${fmt(b)}`,
      value: ratio(a, b),
      target: '≤ 1.05×',
      met: a / b <= 1.05,
    })
  } finally {
    await withR.dispose()
    await plain.dispose()
  }
}

await oneRendition()
await noOpBuild()
