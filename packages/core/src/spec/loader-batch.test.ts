import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { resolveConfig } from '../config/resolve.js'
import { offlineProvider } from '../providers/offline.js'
import { Store } from '../store/index.js'
import * as bundle from './bundle.js'
import { SpecLoader } from './loader.js'

vi.mock('./bundle.js', async (original) => {
  const real = await original<typeof import('./bundle.js')>()
  return { ...real, bundleModules: vi.fn(real.bundleModules) }
})

let root: string
const spec = (i: number) =>
  `import { defineVideo } from '@vidspec/core'\nexport default defineVideo({ model: 'minimax/hailuo-02', prompt: 'shot ${i}', seconds: 6, width: 160, height: 90 })\n`
const loader = () =>
  new SpecLoader({
    config: resolveConfig({ provider: 'offline' }, { root, env: {} }),
    provider: offlineProvider(),
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    providerIssues: () => [],
    storeExists: () => true,
  })

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vidspec-loader-batch-'))
  await new Store(join(root, '.vidspec')).init()
  vi.mocked(bundle.bundleModules).mockClear()
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('SpecLoader.loadMemoized', () => {
  it('evaluates the specs asked for at once in one esbuild build, each answered with its own spec', async () => {
    const files = Array.from({ length: 12 }, (_, i) => join(root, `s${i}.video.ts`))
    await Promise.all(files.map((f, i) => writeFile(f, spec(i))))
    const l = loader()
    const specs = await Promise.all(files.map((f) => l.loadMemoized(f)))
    expect(specs.map((s) => s.request.prompt)).toEqual(files.map((_, i) => `shot ${i}`))
    expect(vi.mocked(bundle.bundleModules).mock.calls.map(([batch]) => batch.length)).toEqual([12])
    // The same file asked twice in one turn is loaded once.
    const [a, b] = await Promise.all([l.loadMemoized(files[0] as string), l.loadMemoized(files[0] as string)])
    expect(a).toBe(b)
  })

  it('gives each spec of a batch its own answer: a broken one fails alone, and two writing one output fail without failing the rest', async () => {
    await writeFile(join(root, 'good.video.ts'), spec(1))
    await writeFile(join(root, 'broken.video.ts'), 'export default {\n')
    await writeFile(join(root, 'twin.video.ts'), spec(2))
    await writeFile(join(root, 'twin.video.js'), spec(3))
    const l = loader()
    const results = await Promise.allSettled(['good.video.ts', 'broken.video.ts', 'twin.video.ts', 'twin.video.js'].map((f) => l.loadMemoized(join(root, f))))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
    expect(results[1]).toMatchObject({ reason: { code: 'SPEC_LOAD_FAILED' } })
  })
})
