import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { VidspecError } from '../errors.js'
import type { LoadedSpec, Vidspec } from '../project.js'
import { sha256Hex } from '../key/key.js'
import { SpecTracker, isCurrent, type WatchDecision } from './tracker.js'

let root: string

/** A project whose generations the test finishes by hand; a started key is paid and never cancelled. */
function fakeProject() {
  const runs: Array<{ key: string; signal: AbortSignal; resolve(): void }> = []
  const generating = new Set<string>()
  const project = {
    specId: (file: string) => file.slice(root.length + 1),
    assetFor: async () => undefined,
    settleMs: async (own: number) => own,
    provider: { kind: 'remote' },
    isGenerating: (key: string) => generating.has(key),
    generate: (spec: LoadedSpec, opts: { signal: AbortSignal }) =>
      new Promise((resolve, reject) => {
        runs.push({ key: spec.key, signal: opts.signal, resolve: () => resolve({ entry: { key: spec.key }, generated: true }) })
        opts.signal.addEventListener('abort', () => reject(new VidspecError('ABORTED', 'stopped')))
      }),
  } as unknown as Vidspec
  return { project, runs, generating }
}

function spec(name: string, key: string, inputs: string[]): LoadedSpec {
  const file = join(root, name)
  return { file, id: name, name, deps: [file], depHashes: {}, inputs: [file, ...inputs], request: {} as LoadedSpec['request'], media: new Map(), key, provider: 'together', warnings: [] }
}

const tick = () => new Promise((r) => setTimeout(r, 0))

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vidspec-tracker-'))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('SpecTracker', () => {
  it('knows which specs each input feeds, local media included, and forgets a removed spec', async () => {
    const { project } = fakeProject()
    const t = new SpecTracker(project)
    const shared = join(root, 'brand.ts')
    const image = join(root, 'first.png')
    await t.loaded(join(root, 'a.video.ts'), 'added', undefined, { spec: spec('a.video.ts', 'k1', [shared, image]) })
    await t.loaded(join(root, 'b.video.ts'), 'added', undefined, { spec: spec('b.video.ts', 'k2', [shared]) })
    expect([...t.fedBy([image])]).toEqual([join(root, 'a.video.ts')])
    expect([...t.fedBy([shared])].sort()).toEqual([join(root, 'a.video.ts'), join(root, 'b.video.ts')])
    t.remove(join(root, 'a.video.ts'))
    expect([...t.fedBy([image, shared])]).toEqual([join(root, 'b.video.ts')])
    await t.close()
  })

  it('a re-keyed spec drops its queued job unless a twin wants the key; a started paid job is kept', async () => {
    const { project, runs, generating } = fakeProject()
    const decisions: WatchDecision[] = []
    const t = new SpecTracker(project, { onDecision: (d) => decisions.push(d) })
    await t.loaded(join(root, 'a.video.ts'), 'added', undefined, { spec: spec('a.video.ts', 'k1', []) })
    await t.loaded(join(root, 'b.video.ts'), 'added', undefined, { spec: spec('b.video.ts', 'k1', []) })
    await t.loaded(join(root, 'c.video.ts'), 'added', undefined, { spec: spec('c.video.ts', 'k3', []) })
    await tick()
    expect(runs.map((r) => r.key)).toEqual(['k1', 'k3'])
    // a moves on: b still wants k1, so it runs on.
    await t.loaded(join(root, 'a.video.ts'), 'unchanged', undefined, { spec: spec('a.video.ts', 'k2', []) })
    expect(runs[0]?.signal.aborted).toBe(false)
    // c's job has started paying: its spec's deletion does not stop it.
    generating.add('k3')
    t.remove(join(root, 'c.video.ts'))
    expect(runs[1]?.signal.aborted).toBe(false)
    // b moves on too: nobody wants k1 and it has not started, so it goes.
    await t.loaded(join(root, 'b.video.ts'), 'unchanged', undefined, { spec: spec('b.video.ts', 'k4', []) })
    expect(runs[0]?.signal.aborted).toBe(true)
    expect(decisions.filter((d) => d.kind === 'superseded').map((d) => [d.spec, d.key])).toEqual([
      ['a.video.ts', 'k1'],
      ['b.video.ts', 'k1'],
    ])
    for (const r of runs) r.resolve()
    await t.close()
  })

  it('a spec is current only while its files hold the bytes its key was computed from', async () => {
    const file = join(root, 'a.video.ts')
    await writeFile(file, 'one')
    const s = { depHashes: { [file]: sha256Hex('one') }, media: new Map() }
    expect(await isCurrent(s)).toBe(true)
    await writeFile(file, 'two')
    expect(await isCurrent(s)).toBe(false)
    await rm(file)
    expect(await isCurrent(s)).toBe(false)
  })
})
