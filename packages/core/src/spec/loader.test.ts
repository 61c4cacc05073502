import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { resolveConfig } from '../config/resolve.js'
import type { SpecIssue } from '../errors.js'
import { offlineProvider } from '../providers/offline.js'
import { Store } from '../store/index.js'
import { SpecLoader, type LoadedSpec } from './loader.js'
import { writeTwoSpecs } from './test-helpers.js'

let root: string

const spec = (prompt: string, extra = '') =>
  "import { defineVideo } from '@vidspec/core'\nimport { look } from './shared'\n" +
  `export default defineVideo({ model: 'minimax/hailuo-02', prompt: \`${prompt} \${look}\`, seconds: 1, width: 160, height: 90${extra} })\n`

function loader(opts: { issues?: (spec: LoadedSpec) => SpecIssue[]; warnings?: string[] } = {}) {
  const config = resolveConfig({ provider: 'offline' }, { root, env: {} })
  return new SpecLoader({
    config,
    provider: offlineProvider(),
    logger: { debug() {}, info() {}, warn: (m) => opts.warnings?.push(m), error() {} },
    providerIssues: opts.issues ?? (() => []),
    storeExists: () => true,
  })
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vidspec-loader-'))
  await new Store(join(root, '.vidspec')).init()
  await writeTwoSpecs(root, spec)
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('SpecLoader', () => {
  it('gives each spec one list of inputs: the modules it imported and its local media', async () => {
    const b = await loader().load(join(root, 'b.video.ts'))
    expect(b.inputs.slice().sort()).toEqual([join(root, 'b.video.ts'), join(root, 'frame.png'), join(root, 'shared.ts')].sort())
    expect(b.depHashes[join(root, 'shared.ts')]).toMatch(/^[0-9a-f]{64}$/)
  })

  it('answers from the memo with the same keys and inputs, and a broken spec never fails the others', async () => {
    await writeFile(join(root, 'broken.video.ts'), 'export default {')
    const first = await loader().loadAll()
    const again = await loader().loadAll()
    const view = (r: typeof first) => r.map((x) => [x.file.slice(root.length + 1), x.spec?.key, x.spec?.inputs.length, x.error?.code])
    expect(view(again)).toEqual(view(first))
    expect(view(first).map((v) => v[3])).toEqual([undefined, undefined, 'SPEC_LOAD_FAILED'])
  })

  it("carries a spec's renditions, fresh and from the memo, and keys it as if they were not there", async () => {
    const plain = await loader().load(join(root, 'a.video.ts'))
    await writeFile(join(root, 'a.video.ts'), spec('alpha', ", renditions: { formats: ['webm'], widths: [640] }"))
    const fresh = (await loader().loadAll([join(root, 'a.video.ts')]))[0]?.spec
    const memo = (await loader().loadAll([join(root, 'a.video.ts')]))[0]?.spec
    for (const s of [fresh, memo]) {
      expect(s?.renditions).toEqual({ formats: ['webm'], widths: [640] })
      expect(s?.key).toBe(plain.key)
      expect(s?.request).toEqual(plain.request)
    }
  })

  it('refuses what the provider refuses, naming the spec, before keying', async () => {
    const l = loader({ issues: () => [{ path: 'prompt', value: '"x"', message: 'not for this provider' }] })
    await expect(l.load(join(root, 'a.video.ts'))).rejects.toMatchObject({ code: 'SPEC_INVALID', message: expect.stringContaining('a.video.ts') })
  })

  it('says each spec warning once per process', async () => {
    const warnings: string[] = []
    const l = loader({ warnings })
    const specs = [{ id: 'a.video.ts', warnings: ['careful'] }]
    l.reportWarnings(specs)
    l.reportWarnings(specs)
    expect(warnings).toHaveLength(1)
  })
})
