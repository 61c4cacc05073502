import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as esbuild from 'esbuild'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ModuleLoadError, bundleModules, type Bundled } from './bundle.js'
import { settle } from './test-helpers.js'

vi.mock('esbuild', async (original) => {
  const real = await original<typeof import('esbuild')>()
  return { ...real, build: vi.fn(real.build) }
})

let dir: string

beforeEach(async () => {
  vi.mocked(esbuild.build).mockClear()
  dir = await realpath(await mkdtemp(join(tmpdir(), 'vidspec-bundle-test-')))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** `count` spec files, `s0.video.ts` on, each with `body(i)`. */
async function writeSpecs(count: number, body: (i: number) => string): Promise<string[]> {
  const files = Array.from({ length: count }, (_, i) => join(dir, `s${i}.video.ts`))
  await Promise.all(files.map((file, i) => writeFile(file, body(i))))
  return files
}

async function bundleOne(file: string): Promise<Bundled> {
  const result = (await bundleModules([file])).get(file)
  if (!result || result instanceof ModuleLoadError) throw new Error(`no bundle: ${result?.detail ?? ''}`)
  return result
}

describe('bundleModules', () => {
  it('bundles more modules than one build takes, each with its own code and deps; a broken one fails alone', async () => {
    await writeFile(join(dir, 'shared.ts'), 'export const look = "teal"\n')
    // One compile error in the third build of 100.
    const files = await writeSpecs(230, (i) => (i === 217 ? 'export default {{ broken' : `import { look } from './shared'\nexport default { n: ${i}, look }\n`))
    const out = await bundleModules(files)
    expect(out.size).toBe(230)
    for (const [i, file] of files.entries()) {
      const result = out.get(file)
      if (i === 217) {
        expect(result).toBeInstanceOf(ModuleLoadError)
        continue
      }
      if (!result || result instanceof ModuleLoadError) throw new Error(`${file}: ${result?.detail ?? 'no result'}`)
      expect(result.code).toContain(`n: ${i}`)
      expect(result.deps).toEqual([join(dir, 'shared.ts'), file].sort())
      expect(result.importFree).toBe(true)
    }
  })

  it('reports each batch before it builds the next, and builds none after an abort', async () => {
    await writeFile(join(dir, 'late.ts'), 'export const v = "before"\n')
    const files = await writeSpecs(230, (i) => `import { v } from './late'\nexport default { n: ${i}, v }\n`)
    const heard: string[] = []
    const controller = new AbortController()
    const out = await bundleModules(files, {
      signal: controller.signal,
      onBundled: (file) => {
        heard.push(file)
        // What the second batch reads, changed as the first is reported.
        if (heard.length === 1) writeFileSync(join(dir, 'late.ts'), 'export const v = "after"\n')
        if (heard.length === 200) controller.abort()
      },
    })
    expect(heard).toEqual(files.slice(0, 200))
    expect([...out.keys()]).toEqual(files.slice(0, 200))
    const code = (i: number) => (out.get(files[i] as string) as { code: string }).code
    expect(code(99)).toContain('"before"')
    expect(code(100)).toContain('"after"')
  })

  it('bundles @vidspec/core in (define.js) and leaves every other package out, even one whose name it begins', async () => {
    for (const name of ['@vidspec/cor', '@vidspec/core-extra']) {
      await mkdir(join(dir, 'node_modules', name), { recursive: true })
      await writeFile(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, type: 'module', main: 'index.js' }))
      await writeFile(join(dir, 'node_modules', name, 'index.js'), `export const from = ${JSON.stringify(name)}\n`)
    }
    const file = join(dir, 'core.video.ts')
    await writeFile(file, "import { defineVideo } from '@vidspec/core'\nimport { from } from '@vidspec/cor'\nimport { from as extra } from '@vidspec/core-extra'\nexport default defineVideo({ prompt: from + extra })\n")
    const result = await bundleOne(file)
    expect(result.code).toContain('Symbol.for("vidspec.spec")')
    for (const name of ['@vidspec/cor', '@vidspec/core-extra']) expect(result.code).toContain(pathToFileURL(join(dir, 'node_modules', name, 'index.js')).href)
    expect(result.deps).toEqual([file])
    expect(result.importFree).toBe(false)
  })

  it.each([
    ['a builtin', "import { sep } from 'node:path'\nexport default { sep }\n"],
    ['a builtin, dynamically', "export default { sep: (await import('node:path')).sep }\n"],
    ['a builtin, by require', "export default { sep: require('node:path').sep }\n"],
  ])('tells a module that imports %s from one that imports nothing', async (_what, body) => {
    const file = join(dir, 'imports.video.ts')
    await writeFile(file, body)
    expect((await bundleOne(file)).importFree).toBe(false)
  })

  it('splits the builds of specs bundled without a source map, and stops splitting once a batch could mostly not be linked', async () => {
    await writeFile(join(dir, 'shared.ts'), 'export const look = "teal"\n')
    const splitOf = () => vi.mocked(esbuild.build).mock.calls.map(([options]) => options.splitting === true)
    const linkable = await writeSpecs(230, (i) => `import { look } from './shared'\nexport default { n: ${i}, look }\n`)
    const importing = Array.from({ length: 230 }, (_, i) => join(dir, `pkg${i}.video.ts`))
    // A builtin is an import a linked script cannot make.
    await Promise.all(importing.map((file, i) => writeFile(file, `import { sep } from 'node:path'\nimport { look } from './shared'\nexport default { n: ${i}, look, sep }\n`)))
    await settle()
    const linked = await bundleModules(linkable, { sourcemap: false })
    expect([...linked.values()].every((r) => !(r instanceof ModuleLoadError) && r.linked && r.importFree)).toBe(true)
    expect(splitOf()).toEqual([true, true, true])
    vi.mocked(esbuild.build).mockClear()
    const alone = await bundleModules(importing, { sourcemap: false })
    expect([...alone.values()].some((r) => r instanceof ModuleLoadError || r.linked)).toBe(false)
    // The second batch's split build started while the first was linked; the third never split.
    expect(splitOf()).toEqual([true, true, false, false, false])
  })

  it('does not take what esbuild read of a file changed within RACY_MS of a split build for its own: those specs are bundled alone', async () => {
    await writeFile(join(dir, 'old.ts'), 'export const look = "teal"\n')
    const files = await writeSpecs(6, (i) => `import { look } from './${i < 3 ? 'old' : 'fresh'}'\nexport default { n: ${i}, look }\n`)
    await settle()
    await writeFile(join(dir, 'fresh.ts'), 'export const look = "new"\n')
    const out = await bundleModules(files, { sourcemap: false })
    const results = files.map((f) => out.get(f) as Bundled)
    expect(results.map((r) => r.linked === true)).toEqual([true, true, true, false, false, false])
    expect(results.map((r) => r.code.includes('"new"'))).toEqual([false, false, false, true, true, true])
    // What the linked ones were made from is vouched for by a stamp; the fresh file has none yet.
    expect(Object.keys(results[0]?.stamps ?? {}).sort()).toEqual([join(dir, 'old.ts'), files[0]].sort())
    expect(results[3]?.inputs[join(dir, 'fresh.ts')]).toBe(createHash('sha256').update('export const look = "new"\n').digest('hex'))
  })
})
