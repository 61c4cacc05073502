import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isBrandedSpec } from '../define.js'
import { VidspecError } from '../errors.js'
import { ModuleLoadError, bundleModules } from './bundle.js'
import { hashFiles, loadModuleFile, loadSpecFile, loadSpecFiles } from './load.js'
import { settle } from './test-helpers.js'

let dir: string

beforeEach(async () => {
  // realpath: macOS tmpdir is a symlink, and deps are reported as real paths.
  dir = await realpath(await mkdtemp(join(tmpdir(), 'vidspec-load-test-')))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function write(rel: string, text: string): Promise<string> {
  const file = join(dir, rel)
  await mkdir(join(file, '..'), { recursive: true })
  await writeFile(file, text)
  return file
}

async function loadError(file: string): Promise<VidspecError> {
  const err: unknown = await loadSpecFile(file).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(VidspecError)
  return err as VidspecError
}

describe('loadModuleFile', () => {
  it('bundles local imports, evaluates the module and lists every local file it read', async () => {
    const brand = await write('shared/brand.ts', `export const brand: { look: string } = { look: 'warm light' }\n`)
    const spec = await write(
      'pages/hero.video.ts',
      `import { brand } from '../shared/brand'\nexport default { prompt: \`forest, \${brand.look}\`, seconds: 2 as number }\n`,
    )
    const { value, deps } = await loadModuleFile(spec)
    expect(value).toEqual({ prompt: 'forest, warm light', seconds: 2 })
    expect(deps).toEqual([spec, brand].sort())
  })

  it('sees the new text of a shared module after it is edited (no stale module cache)', async () => {
    await write('brand.ts', `export const look = 'first'\n`)
    const spec = await write('a.video.ts', `import { look } from './brand'\nexport default { look }\n`)
    expect((await loadModuleFile(spec)).value).toEqual({ look: 'first' })
    await write('brand.ts', `export const look = 'second'\n`)
    expect((await loadModuleFile(spec)).value).toEqual({ look: 'second' })
  })

  it('evaluates again on every load, even when nothing changed', async () => {
    const spec = await write('a.video.ts', `const g = globalThis as { __vidspecLoads?: number }\ng.__vidspecLoads = (g.__vidspecLoads ?? 0) + 1\nexport default { n: g.__vidspecLoads }\n`)
    const first = (await loadModuleFile(spec)).value as { n: number }
    const second = (await loadModuleFile(spec)).value as { n: number }
    expect(second.n).toBe(first.n + 1)
  })

  it('gives each file its own import.meta.url, not the temporary bundle', async () => {
    const shared = await write('lib/where.ts', `export const where = import.meta.url\n`)
    const spec = await write('a.video.ts', `import { where } from './lib/where'\nexport default { self: import.meta.url, where, dir: import.meta.dirname }\n`)
    const { value } = await loadModuleFile(spec)
    expect(value).toEqual({ self: `file://${spec}`, where: `file://${shared}`, dir })
  })

  it('resolves npm packages from the spec directory and keeps them out of deps', async () => {
    await write('node_modules/tiny-pkg/package.json', JSON.stringify({ name: 'tiny-pkg', type: 'module', main: 'index.js' }))
    await write('node_modules/tiny-pkg/index.js', `export const answer = 42\n`)
    const spec = await write('a.video.ts', `import { answer } from 'tiny-pkg'\nimport { join } from 'node:path'\nexport default { answer, joined: join('a', 'b') }\n`)
    const { value, deps } = await loadModuleFile(spec)
    expect(value).toEqual({ answer: 42, joined: 'a/b' })
    expect(deps).toEqual([spec])
  })

  it('leaves nothing behind in the temp dir', async () => {
    const before = (await readdir(tmpdir())).filter((n) => n.startsWith('vidspec-load-') && !n.startsWith('vidspec-load-test-'))
    const spec = await write('a.video.ts', `export default { a: 1 }\n`)
    await loadModuleFile(spec)
    await loadError(await write('b.video.ts', `throw new Error('nope')\n`))
    const after = (await readdir(tmpdir())).filter((n) => n.startsWith('vidspec-load-') && !n.startsWith('vidspec-load-test-'))
    expect(after.filter((n) => !before.includes(n))).toEqual([])
  })

  it('evaluates concurrent loads of one file each afresh and leaves nothing behind once all are done', async () => {
    const before = (await readdir(tmpdir())).filter((n) => n.startsWith('vidspec-load-') && !n.startsWith('vidspec-load-test-'))
    const spec = await write('c.video.ts', `const g = globalThis as { __vidspecConcurrent?: number }\ng.__vidspecConcurrent = (g.__vidspecConcurrent ?? 0) + 1\nexport default { n: g.__vidspecConcurrent }\n`)
    const broken = await write('d.video.ts', `throw new Error('nope')\n`)
    const results = await Promise.allSettled([spec, broken, spec, spec, broken].map((f) => loadModuleFile(f)))
    const values = results.flatMap((r) => (r.status === 'fulfilled' ? [(r.value.value as { n: number }).n] : []))
    expect(values.sort()).toEqual([1, 2, 3])
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(2)
    const after = (await readdir(tmpdir())).filter((n) => n.startsWith('vidspec-load-') && !n.startsWith('vidspec-load-test-'))
    expect(after.filter((n) => !before.includes(n))).toEqual([])
  })
})

describe('loadSpecFile', () => {
  it('resolves @vidspec/core without node_modules and brands the spec', async () => {
    const spec = await write(
      'hero.video.ts',
      `import { defineVideo } from '@vidspec/core'\nexport default defineVideo({ model: 'minimax/hailuo-02', prompt: 'a forest', seconds: 1 })\n`,
    )
    const { raw, deps } = await loadSpecFile(spec)
    expect(isBrandedSpec(raw)).toBe(true)
    expect(raw).toMatchObject({ model: 'minimax/hailuo-02', prompt: 'a forest', seconds: 1 })
    expect(deps).toEqual([spec])
  })

  it('accepts a plain object default export (the schema judges it)', async () => {
    const spec = await write('plain.video.ts', `export default { model: 'x', prompt: 'y' }\n`)
    const { raw } = await loadSpecFile(spec)
    expect(raw).toEqual({ model: 'x', prompt: 'y' })
    expect(isBrandedSpec(raw)).toBe(false)
  })

  it('reports a syntax error with the file and line', async () => {
    const spec = await write('broken.video.ts', `export default {\n  prompt: 'a',\n  seconds: ,\n}\n`)
    const err = await loadError(spec)
    expect(err.code).toBe('SPEC_LOAD_FAILED')
    expect(err.file).toBe(spec)
    expect(err.message).toContain(`${spec}:3:`)
    expect(err.message).toContain('could not be compiled')
  })

  it('reports a spec that throws, with the thrown message and the .ts line', async () => {
    await write('brand.ts', `export function pick(): string {\n  throw new Error('brand palette missing')\n}\n`)
    const spec = await write('throws.video.ts', `import { pick } from './brand'\nexport default { prompt: pick() }\n`)
    const err = await loadError(spec)
    expect(err.code).toBe('SPEC_LOAD_FAILED')
    expect(err.message).toContain(spec)
    expect(err.message).toContain('brand palette missing')
    expect(err.message).toContain(`${join(dir, 'brand.ts')}:2:`)
    expect((err.cause as Error).message).toContain('brand palette missing')
  })

  it("points a throw at its own file's line from within a batch of many specs, and the cause's stack names no temp bundle", async () => {
    await write('brand.ts', `// the palette\nexport function pick(n: number): string {\n  if (n === 117) throw new Error('no palette for 117')\n  return 'teal'\n}\n`)
    const files: string[] = []
    for (let i = 0; i < 130; i++) files.push(await write(`clip-${i}.video.ts`, `import { pick } from './brand'\n\nexport default { prompt: pick(${i}) }\n`))
    // Settled, so the batch is linked from a split build: the one that threw runs again alone.
    await settle()
    const results = await loadSpecFiles(files)
    const failed = [...results].filter(([, r]) => r instanceof Error)
    expect(failed.map(([f]) => f)).toEqual([files[117]])
    const err = failed[0]?.[1] as VidspecError
    expect(err.message).toContain('no palette for 117')
    expect(err.message).toContain(`(at ${join(dir, 'brand.ts')}:3:`)
    const stack = ((err.cause as Error).cause as Error).stack ?? ''
    expect(stack).toContain(`${join(dir, 'brand.ts')}:3:`)
    expect(stack).toContain(`${files[117]}:3:`)
    expect(stack).not.toMatch(/vidspec-load-.*\.mjs/)
  })

  it('evaluates specs that share modules in one split build, each to what it gives alone; one that reads a binding a call changes, imports a package or reads import.meta is bundled alone', async () => {
    await write('brand.ts', `export const brand = { look: 'teal' }\nexport let count = 0\nexport function bump() {\n  count++\n  return count\n}\n`)
    await write('util.cjs', `let calls = 0\nmodule.exports = { twice: (x) => x * 2 + ++calls }\n`)
    await write('data.json', `{ "fps": 8, "tags": ["a"] }\n`)
    await write('slow.ts', `export const ready = await Promise.resolve('ready')\n`)
    await write('re.ts', `export { brand as palette } from './brand'\nexport * from './slow'\n`)
    await write('node_modules/pkg/package.json', JSON.stringify({ name: 'pkg', type: 'module', main: 'index.js' }))
    await write('node_modules/pkg/index.js', `export const fromPkg = 'pkg'\n`)
    const shared = (i: number) =>
      `import util from './util.cjs'\nimport data from './data.json'\nimport { palette, ready } from './re'\nimport { bump } from './brand'\nconst brand = 'own ' + ${i}\nexport default { i: ${i}, brand, look: palette.look, twice: util.twice(${i}), fps: data.fps, tags: data.tags, ready, bumped: bump() }\n`
    const files = [
      ...(await Promise.all([0, 1].map((i) => write(`s${i}.video.ts`, shared(i))))),
      // Reads the environment through a shared module: evaluated every time, linked or not.
      await write('s2.video.ts', `import { home } from './env'\n${shared(2)}export const seen = home\n`),
      await write('live.video.ts', `import { bump, count } from './brand'\nbump()\nexport default { count }\n`),
      await write('pkg.video.ts', `import { fromPkg } from 'pkg'\nimport { brand } from './brand'\nexport default { fromPkg, look: brand.look }\n`),
      // import.meta names each file's own path: the capture plugin's job, which a linked spec skips.
      await write('meta.video.ts', `import { here } from './here'\nexport default { here, look: 'x' }\n`),
    ]
    await write('here.ts', `export const here = import.meta.url\n`)
    await write('env.ts', `export const home = typeof process.env.HOME\n`)
    await settle()
    const bundled = await bundleModules(files, { sourcemap: false })
    const linked = files.map((f) => {
      const b = bundled.get(f)
      if (!b || b instanceof ModuleLoadError) throw new Error(`${f}: not bundled`)
      return b.linked === true
    })
    expect(linked).toEqual([true, true, true, false, false, false])
    const together = await loadSpecFiles(files)
    for (const file of files) {
      const alone = await loadSpecFile(file)
      const inBatch = together.get(file)
      if (!inBatch || inBatch instanceof Error) throw new Error(`${file}: ${inBatch?.message ?? 'no result'}`)
      expect(inBatch.raw, file).toEqual(alone.raw)
      expect(inBatch.deps, file).toEqual(alone.deps)
      expect(inBatch.inputs, file).toEqual(alone.inputs)
      expect(inBatch.stamps, file).toEqual(alone.stamps)
      expect(inBatch.impure, file).toBe(alone.impure)
    }
    expect((together.get(files[0] as string) as { raw: unknown }).raw).toEqual({ i: 0, brand: 'own 0', look: 'teal', twice: 1, fps: 8, tags: ['a'], ready: 'ready', bumped: 1 })
    expect((together.get(files[3] as string) as { raw: unknown }).raw).toEqual({ count: 1 })
    expect(files.map((f) => (together.get(f) as { impure: boolean }).impure)).toEqual([false, false, true, false, false, false])
    // Settled files are vouched for by their stamps, linked or not: the plan after reads none again.
    expect(Object.keys((together.get(files[0] as string) as { stamps: object }).stamps).length).toBe(6)
    expect((together.get(files[5] as string) as { raw: unknown }).raw).toEqual({ here: pathToFileURL(join(dir, 'here.ts')).href, look: 'x' })
  })

  it("gives each spec its own copy of a shared module: one spec's change to it is not another's", async () => {
    await write('brand.ts', `export const brand = { look: 'teal' }\n`)
    const files = [
      await write('a.video.ts', `import { brand } from './brand'\nbrand.look = 'changed by a'\nexport default { look: brand.look }\n`),
      ...(await Promise.all(Array.from({ length: 20 }, (_, i) => write(`b${i}.video.ts`, `import { brand } from './brand'\nexport default { look: brand.look }\n`)))),
    ]
    // Settled, so the specs are linked from one split build, where the module is one chunk.
    await settle()
    const results = await loadSpecFiles(files)
    expect(files.map((f) => (results.get(f) as { raw: { look: string } }).raw.look)).toEqual(['changed by a', ...Array(20).fill('teal')])
  })

  it('stops at an abort: every spec not evaluated by then is ABORTED, in every batch', async () => {
    const log = join(dir, 'ran.log')
    const marker = join(dir, 'looping')
    const files: string[] = []
    for (let i = 0; i < 230; i++) {
      // The first loops (and says so); the last loops too, so it cannot be done before the abort.
      const body = i === 0 ? `writeFileSync(${JSON.stringify(marker)}, '')\nwhile (true) {}\n` : i === 229 ? 'while (true) {}\n' : ''
      files.push(await write(`clip-${i}.video.ts`, `import { appendFileSync, writeFileSync } from 'node:fs'\n${body}appendFileSync(${JSON.stringify(log)}, '${i}\\n')\nexport default { prompt: 'p${i}' }\n`))
    }
    const controller = new AbortController()
    const loading = loadSpecFiles(files, { signal: controller.signal, timeoutMs: 600_000 })
    // Abort once the first spec is known to be running (and looping).
    for (let i = 0; i < 2000 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 10))
    controller.abort(new Error('stopped by the test'))
    const results = await loading
    const ran = new Set(existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [])
    expect(results.size).toBe(230)
    const aborted = files.filter((file, i) => {
      const result = results.get(file)
      if (result instanceof VidspecError) return result.code === 'ABORTED'
      // Evaluated before the abort: it ran, once.
      expect(ran.has(String(i))).toBe(true)
      return false
    })
    expect(aborted.length + [...results.values()].filter((r) => !(r instanceof Error)).length).toBe(230)
    expect(aborted).toContain(files[0])
    expect(aborted).toContain(files[229])
  })

  it('points a throw after evaluating (a timer) at the line that threw', async () => {
    const spec = await write('timer.video.ts', `export default { prompt: 'a' }\n\nsetTimeout(() => {\n  throw new Error('late')\n}, 1)\n`)
    const err = await loadError(spec)
    expect(err.message).toMatch(/threw after evaluating .*: late/)
    expect(err.message).toContain(`(at ${spec}:4:`)
  })

  it('reports an unresolvable import as a compile error naming the import', async () => {
    const spec = await write('a.video.ts', `import { x } from './missing'\nexport default { x }\n`)
    const err = await loadError(spec)
    expect(err.code).toBe('SPEC_LOAD_FAILED')
    expect(err.message).toContain('./missing')
  })

  it('rejects a spec with no default export and says what to export', async () => {
    const spec = await write('nodefault.video.ts', `export const spec = { prompt: 'a' }\n`)
    const err = await loadError(spec)
    expect(err.code).toBe('SPEC_LOAD_FAILED')
    expect(err.message).toContain(spec)
    expect(err.message).toContain('no default export')
    expect(err.message).toContain('export default defineVideo(')
  })

  it.each([
    ['a string', `export default 'a forest'\n`, 'a string ("a forest")'],
    ['an array', `export default [{ prompt: 'a' }]\n`, 'an array'],
    ['a function', `export default () => ({ prompt: 'a' })\n`, 'a function'],
    ['null', `export default null\n`, 'null'],
  ])('rejects a default export that is %s', async (_kind, text, shown) => {
    const spec = await write('wrong.video.ts', text)
    const err = await loadError(spec)
    expect(err.code).toBe('SPEC_LOAD_FAILED')
    expect(err.message).toContain(`${spec}: its default export is ${shown}`)
    expect(err.message).toContain('export default defineVideo(')
  })
})

describe('hashFiles', () => {
  it('hashes every file by content, keyed by the given path', async () => {
    const files = await Promise.all(Array.from({ length: 40 }, (_, i) => write(`f${i}.txt`, `content ${i}`)))
    const hashes = await hashFiles(files)
    expect(Object.keys(hashes).sort()).toEqual([...files].sort())
    for (const [i, file] of files.entries()) {
      expect(hashes[file]).toBe(createHash('sha256').update(`content ${i}`).digest('hex'))
    }
  })

  it('hashes a file over the small-file size (a reference video) the same way, streamed', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 7)
    const small = await write('small.txt', 'x')
    const file = join(dir, 'big.bin')
    await writeFile(file, big)
    const hashes = await hashFiles([small, file])
    expect(hashes[file]).toBe(createHash('sha256').update(big).digest('hex'))
    expect(hashes[small]).toBe(createHash('sha256').update('x').digest('hex'))
  })

  it('fails for a missing file', async () => {
    await expect(hashFiles([join(dir, 'nope.txt')])).rejects.toThrow(/ENOENT/)
  })
})

describe('JSON imports', () => {
  it('imports a JSON file by default and by top-level name, and reports invalid JSON with its line', async () => {
    await write('data.json', JSON.stringify({ look: 'teal', list: [1, 2], default: 'd', 'not-an-id': 1 }))
    const spec = await write('j.video.ts', `import data, { look, list } from './data.json'\nexport default { look, n: list.length, keys: Object.keys(data).length }\n`)
    const { raw, deps, inputs } = await loadSpecFile(spec)
    expect(raw).toEqual({ look: 'teal', n: 2, keys: 4 })
    expect(deps).toEqual([join(dir, 'data.json'), spec].sort())
    expect(inputs[join(dir, 'data.json')]).toMatch(/^[0-9a-f]{64}$/)
    await write('bad.json', '{\n  "a": 1,\n  oops\n}')
    const broken = await write('b.video.ts', `import bad from './bad.json'\nexport default { bad }\n`)
    const err = await loadError(broken)
    expect(err.message).toContain('could not be compiled')
    expect(err.message).toContain(`${join(dir, 'bad.json')}:3:`)
  })
})
