// Issue 17, row 7: the first page load of a Vite dev server whose page imports 1,000 specs through
// @vidspec/vite, with the spec memo warm and cold (memos deleted: a fresh checkout with a restored
// store), against a plain Vite app of the same size: the same page importing the very same clips
// as 1,000 plain `.mp4` files. Each measure is one fresh `vite` process, from spawn to the last
// module of the page fetched; the page is loaded as a browser would load it (the HTML, then every
// module it imports, transitively, 6 requests at a time), and the clips themselves are not fetched
// (a page does not need them to start). Rounds are interleaved; each figure is a median.
// Usage: tsx benchmarks/dev-server.ts [specs, default 1000] [--rounds N]
import { spawn } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { benchArgs } from './lib/args.js'
import { benchEnv, cliPath, fail, fmt, interleaveAll, median, ratio, report, summarize, timed } from './lib/measure.js'
import { fillStore, generateProject } from './lib/project.js'

const args = benchArgs()
const SPECS = Number(args.positional[0] ?? 1000)
const rounds = args.number('--rounds', 5)
const BROWSER_CONNECTIONS = 6
const require = createRequire(import.meta.url)
const viteBin = join(require.resolve('vite/package.json'), '..', 'bin', 'vite.js')
const pluginDir = dirname(dirname(require.resolve('@vidspec/vite')))

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

const IMPORT_RE = /(?:\bimport|\bexport)\s*(?:[\w*{}\s,$]*?\bfrom\s*)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g
const SCRIPT_RE = /<script[^>]*\bsrc="([^"]+)"/g

/** Loads the page as a browser would: the HTML, then every module it imports, transitively. */
async function loadPage(origin: string): Promise<number> {
  const seen = new Set<string>()
  const queue: string[] = []
  const enqueue = (from: string, spec: string) => {
    if (!spec.startsWith('/') && !spec.startsWith('.')) return
    const url = new URL(spec, from).href
    if (!seen.has(url)) {
      seen.add(url)
      queue.push(url)
    }
  }
  const html = await fetch(`${origin}/`)
  if (!html.ok) fail(`GET / answered ${html.status}`)
  for (const m of (await html.text()).matchAll(SCRIPT_RE)) if (m[1]) enqueue(`${origin}/`, m[1])
  let active = 0
  await new Promise<void>((done, reject) => {
    const pump = () => {
      if (queue.length === 0 && active === 0) return done()
      while (active < BROWSER_CONNECTIONS && queue.length > 0) {
        const url = queue.shift() as string
        active++
        fetch(url)
          .then(async (res) => {
            if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${(await res.text()).slice(0, 500)}`)
            const text = await res.text()
            for (const m of text.matchAll(IMPORT_RE)) enqueue(url, (m[1] ?? m[2]) as string)
          })
          .then(() => {
            active--
            pump()
          }, reject)
      }
    }
    pump()
  })
  return seen.size
}

/** A fresh `vite` dev server: spawn → listening → the page loaded; then it is stopped. */
async function devLoad(dir: string, expectModules: number): Promise<{ total: number; ready: number }> {
  const port = await freePort()
  const started = performance.now()
  const child = spawn(process.execPath, [viteBin, '--port', String(port), '--strictPort', '--host', '127.0.0.1'], {
    cwd: dir,
    env: benchEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const exited = new Promise<void>((r) => child.once('close', () => r()))
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        out += d.toString()
        if (out.includes(`:${port}`)) resolve()
      }
      child.stdout.on('data', onData)
      child.stderr.on('data', onData)
      child.once('close', (code) => reject(new Error(`vite exited (${code}) before listening:\n${out}`)))
    })
    const ready = performance.now() - started
    const modules = await loadPage(`http://127.0.0.1:${port}`)
    const total = performance.now() - started
    if (modules < expectModules) fail(`the page loaded ${modules} modules, expected at least ${expectModules}`)
    if (/error/i.test(out)) fail(`the dev server reported an error:\n${out.slice(-3000)}`)
    return { total, ready }
  } finally {
    child.kill('SIGTERM')
    await exited
  }
}

const config = `export default { provider: 'offline', include: ['src/**/*.video.ts'], previews: 'allow' }\n`
const project = await generateProject(SPECS, config)
const plainRoot = await mkdtemp(join(tmpdir(), 'vidspec-bench-plain-'))
try {
  await fillStore(project.root)
  // The plain app's files: the very clips of the store, copied out by the CLI (every spec cached).
  const out = await timed(process.execPath, [cliPath, 'build', '--json', '--out', join(plainRoot, 'clips')], { cwd: project.root, env: benchEnv() })
  if (out.code !== 0) fail(`vidspec build --out failed:\n${out.stderr}`)
  const built = (JSON.parse(out.stdout) as { counts: { cached: number } }).counts
  if (built.cached !== SPECS) fail(`PRECONDITION FAILED: expected ${SPECS} cached specs, got ${JSON.stringify(built)}`)
  const manifest = JSON.parse(await readFile(join(plainRoot, 'clips/manifest.json'), 'utf8')) as { clips: Array<{ spec: string; file: string }> }
  if (manifest.clips.length !== SPECS) fail(`the manifest lists ${manifest.clips.length} clips, expected ${SPECS}`)

  const page = (imports: string[], use: string) =>
    `${imports.join('\n')}\ndocument.querySelector('#app').dataset.clips = [${imports.map((_, i) => use.replace('$', `c${i}`)).join(', ')}].length\n`
  const html = '<!doctype html><main id="app"></main><script type="module" src="/main.js"></script>\n'
  // The plugin's app: at the project root, with @vidspec/vite installed under node_modules as a site has it.
  await mkdir(join(project.root, 'node_modules/@vidspec'), { recursive: true })
  await symlink(pluginDir, join(project.root, 'node_modules/@vidspec/vite'), 'dir')
  await writeFile(join(project.root, 'index.html'), html)
  await writeFile(join(project.root, 'main.js'), page(project.specFiles.map((_, i) => `import c${i} from './src/clips/clip-${i}.video'`), '$.src'))
  await writeFile(join(project.root, 'vite.config.mjs'), `import vidspec from '@vidspec/vite'\nexport default { plugins: [vidspec()] }\n`)
  // The plain app: the same page over the same clips as `.mp4` files.
  await writeFile(join(plainRoot, 'index.html'), html)
  await writeFile(join(plainRoot, 'main.js'), page(manifest.clips.map((c, i) => `import c${i} from './clips/${c.file}'`), '$'))
  await writeFile(join(plainRoot, 'vite.config.mjs'), 'export default {}\n')
  await cp(join(project.root, 'node_modules'), join(plainRoot, 'node_modules'), { recursive: true, verbatimSymlinks: true })

  const dropMemos = async () => {
    await rm(join(project.root, '.vidspec/memo'), { recursive: true, force: true })
    await rm(join(project.root, 'node_modules/.cache/vidspec'), { recursive: true, force: true })
  }
  // One warm-up each (Vite's own first-run work, the plugin's posters), not counted.
  const expected = SPECS + 2
  await devLoad(project.root, expected)
  await devLoad(plainRoot, expected)
  const readies: Record<string, number[]> = { plain: [], warm: [], cold: [] }
  const measure = (kind: 'plain' | 'warm' | 'cold') => async () => {
    if (kind === 'cold') await dropMemos()
    const { total, ready } = await devLoad(kind === 'plain' ? plainRoot : project.root, expected)
    readies[kind]?.push(ready)
    return total
  }
  const [plain, warm, cold] = await interleaveAll(rounds, [measure('plain'), measure('warm'), measure('cold')])
  const p = median(plain ?? [])
  const w = median(warm ?? [])
  const c = median(cold ?? [])
  const r = (k: string) => fmt(median(readies[k] ?? []))
  report(`Dev server, first page load of ${SPECS} imported clips (spawn → last module; medians of ${rounds} fresh processes each, interleaved)`, [
    ['plain Vite app (.mp4 imports)', `${fmt(p)} (listening after ${r('plain')})`],
    ['through @vidspec/vite, memo warm', `${fmt(w)}  = ${ratio(w, p)} the plain app (listening after ${r('warm')})`],
    ['through @vidspec/vite, memo cold', `${fmt(c)}  = ${ratio(c, p)} the plain app (listening after ${r('cold')})`],
  ])
  await summarize({ order: 70, measure: `dev server first page load, ${SPECS} specs, memo warm`, figure: `${fmt(w)} vs plain Vite app ${fmt(p)}`, value: ratio(w, p), target: '(reported)' })
  await summarize({ order: 71, measure: `dev server first page load, ${SPECS} specs, memo cold`, figure: `${fmt(c)} vs plain Vite app ${fmt(p)}`, value: ratio(c, p), target: '(reported)' })
} finally {
  await project.dispose()
  await rm(plainRoot, { recursive: true, force: true })
}
