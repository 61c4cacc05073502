import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ModuleLoadError, bundleModules } from './bundle.js'

let dir: string

beforeEach(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'vidspec-bundle-test-')))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('bundleModules', () => {
  it('bundles more modules than one build takes, each with its own code and deps; a broken one fails alone', async () => {
    await writeFile(join(dir, 'shared.ts'), 'export const look = "teal"\n')
    const files: string[] = []
    for (let i = 0; i < 230; i++) {
      const file = join(dir, `s${i}.video.ts`)
      files.push(file)
      // One compile error in the third build of 100.
      const body = i === 217 ? 'export default {{ broken' : `import { look } from './shared'\nexport default { n: ${i}, look }\n`
      await writeFile(file, body)
    }
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
    }
  })
})
