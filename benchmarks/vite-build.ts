// Benchmark 6: `vite build` of a site importing 50 cached clips through @vidspec/vite, against the
// same site importing the very same files as plain `.mp4` assets (Vite's own asset handling, never
// inlined either). Both in fresh processes, interleaved, after one warm-up build each (the plugin's
// warm-up extracts the posters, which later builds reuse). Target (issue 17): ≤ 1.2× the plain build.
// Also reported: a plain site importing every file the plugin ships (each clip and its poster, the
// placeholder inlined), which tells the plugin's own cost from the cost of shipping posters at all.
// Usage: tsx benchmarks/vite-build.ts [clips, default 50] [--rounds N]
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { benchArgs } from './lib/args.js'
import { benchEnv, cliPath, fail, fmt, interleave, interleaveAll, median, ratio, report, summarize, timed } from './lib/measure.js'
import { generateProject } from './lib/project.js'

const args = benchArgs()
const CLIPS = Number(args.positional[0] ?? 50)
const rounds = args.number('--rounds', 5)
const require = createRequire(import.meta.url)
const viteBin = join(require.resolve('vite/package.json'), '..', 'bin', 'vite.js')
const pluginDir = dirname(dirname(require.resolve('@vidspec/vite')))

const project = await generateProject(CLIPS, `export default { provider: 'offline', include: ['src/**/*.video.ts'], previews: 'allow' }\n`)
const env = benchEnv()
try {
  // The store and the plain files: one offline render per spec, then --out copies the clips.
  const made = await timed(process.execPath, [cliPath, 'build', '--json', '--out', 'clips'], { cwd: project.root, env })
  if (made.code !== 0) fail(`vidspec build failed:\n${made.stderr}`)
  const names = project.specFiles.map((f) => f.slice(project.root.length + 1).replace(/\.video\.ts$/, ''))
  const manifest = JSON.parse(await readFile(join(project.root, 'clips/manifest.json'), 'utf8')) as {
    clips: Array<{ spec: string; file: string; posters?: Array<{ file: string }>; placeholder?: string }>
  }
  const clipOf = new Map(manifest.clips.map((m) => [m.spec, m]))
  const shipped = (n: string) => clipOf.get(`${n}.video.ts`) ?? fail(`no clip for ${n} in the manifest`)

  // Installed as a site installs it, so Vite leaves it external instead of bundling it into the config.
  await mkdir(join(project.root, 'node_modules/@vidspec'), { recursive: true })
  await symlink(pluginDir, join(project.root, 'node_modules/@vidspec/vite'), 'dir')
  const sites = { plugin: join(project.root, 'site-plugin'), plain: join(project.root, 'site-plain'), shipped: join(project.root, 'site-shipped') }
  const moduleOf: Record<keyof typeof sites, (n: string, i: number) => { imports: string; use: string }> = {
    plugin: (n, i) => ({ imports: `import c${i} from '../${n}.video'`, use: `c${i}.src` }),
    plain: (n, i) => ({ imports: `import c${i} from '../clips/${shipped(n).file}'`, use: `c${i}` }),
    shipped: (n, i) => {
      const clip = shipped(n)
      const poster = clip.posters?.[0]?.file ?? fail(`no poster for ${n} in the manifest`)
      return {
        imports: `import c${i} from '../clips/${clip.file}'\nimport p${i} from '../clips/${poster}'`,
        use: `{ src: c${i}, poster: p${i}, placeholder: ${JSON.stringify(clip.placeholder ?? '')} }`,
      }
    },
  }
  for (const [kind, dir] of Object.entries(sites) as Array<[keyof typeof sites, string]>) {
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'index.html'), '<!doctype html><main id="app"></main><script type="module" src="./main.js"></script>\n')
    const parts = names.map((n, i) => moduleOf[kind](n, i))
    await writeFile(
      join(dir, 'main.js'),
      `${parts.map((p) => p.imports).join('\n')}\ndocument.querySelector('#app').dataset.clips = JSON.stringify([${parts.map((p) => p.use).join(', ')}])\n`,
    )
    await writeFile(
      join(dir, 'vite.config.mjs'),
      kind === 'plugin'
        ? `import vidspec from '@vidspec/vite'\nexport default { logLevel: 'warn', plugins: [vidspec({ root: '..' })], build: { assetsInlineLimit: 0 } }\n`
        : `export default { logLevel: 'warn', build: { assetsInlineLimit: 0 } }\n`,
    )
  }
  const build = async (dir: string) => {
    const run = await timed(process.execPath, [viteBin, 'build'], { cwd: dir, env })
    if (run.code !== 0) fail(`vite build in ${dir} failed:\n${run.stderr}\n${run.stdout}`)
    return run.ms
  }
  const warmPlugin = await build(sites.plugin)
  const warmPlain = await build(sites.plain)
  await build(sites.shipped)
  const [plugin, plain, same] = await interleaveAll(rounds, [() => build(sites.plugin), () => build(sites.plain), () => build(sites.shipped)])
  const p = median(plugin ?? [])
  const b = median(plain ?? [])
  const s = median(same ?? [])
  // Part of the difference is fixed: loading the plugin and core into the Vite process.
  const node = (code: string) => async () => (await timed(process.execPath, ['--input-type=module', '-e', code], { cwd: sites.plugin, env })).ms
  const [withPlugin, bare] = await interleave(rounds, node(`await import('@vidspec/vite')`), node(''))
  report(`Vite build: ${CLIPS} cached clips (median of ${rounds} fresh processes each, interleaved)`, [
    ['plain .mp4 imports (Vite asset handling)', fmt(b)],
    ['through @vidspec/vite', `${fmt(p)}  = ${ratio(p, b)} the plain build (target ≤ 1.2×)`],
    ['plain imports of every file the plugin ships (clip + poster)', `${fmt(s)}  (the plugin: ${ratio(p, s)} this)`],
    ['  of which: importing @vidspec/vite (fresh node, minus bare node)', fmt(median(withPlugin) - median(bare))],
    ['first builds (plugin extracts posters)', `plugin ${fmt(warmPlugin)}, plain ${fmt(warmPlain)}`],
  ])
  await summarize({
    order: 60,
    measure: `vite build, ${CLIPS} cached clips vs plain .mp4 imports`,
    figure: `${fmt(p)} vs ${fmt(b)}`,
    value: ratio(p, b),
    target: '≤ 1.2×',
    met: p / b <= 1.2,
  })
  await summarize({
    order: 61,
    measure: `vite build, ${CLIPS} cached clips vs plain imports of the same shipped files (clip + poster)`,
    figure: `${fmt(p)} vs ${fmt(s)}`,
    value: ratio(p, s),
    target: '(reported)',
  })
} finally {
  await project.dispose()
}
