import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as atomic from '../store/atomic.js'
import { SpecMemo, type MemoizedSpec } from './memo.js'
import { settle } from './test-helpers.js'

vi.mock('../store/atomic.js', async (original) => {
  const real = await original<typeof import('../store/atomic.js')>()
  return { ...real, writeFileAtomic: vi.fn(real.writeFileAtomic), writeJsonAtomic: vi.fn(real.writeJsonAtomic) }
})
/** Writes of the memo file, whichever of the store's atomic writers made them. */
const writes = () =>
  [...vi.mocked(atomic.writeFileAtomic).mock.calls, ...vi.mocked(atomic.writeJsonAtomic).mock.calls].filter(([, target]) => String(target).endsWith('specs-offline.json')).length

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vidspec-memo-save-'))
  mkdirSync(join(dir, 'tmp'))
  vi.mocked(atomic.writeFileAtomic).mockClear()
  vi.mocked(atomic.writeJsonAtomic).mockClear()
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const spec = (i: number): MemoizedSpec => ({
  deps: [join(dir, `s${i}.video.ts`)],
  request: { model: 'minimax/hailuo-02', prompt: `shot ${i}` } as MemoizedSpec['request'],
  media: [],
  key: String(i).padStart(64, '0'),
  warnings: [],
})
const remember = (memo: SpecMemo, i: number) => memo.remember(`s${i}.video.ts`, spec(i), { inputs: { [join(dir, `s${i}.video.ts`)]: `sha${i}` }, impure: false })
const onDisk = async () => Object.keys((JSON.parse(await readFile(join(dir, 'memo/specs-offline.json'), 'utf8')) as { specs: object }).specs).length

describe('SpecMemo.save', () => {
  it('writes a hundred saves asked at once a couple of times, not a hundred, and every record lands', async () => {
    const memo = await SpecMemo.open(dir, 'offline')
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        await remember(memo, i)
        await memo.save()
      }),
    )
    expect(writes()).toBeLessThanOrEqual(2)
    expect(await onDisk()).toBe(100)
  })

  it('keeps a record remembered while a write is on its way (written by the next one)', async () => {
    const memo = await SpecMemo.open(dir, 'offline')
    await remember(memo, 1)
    const first = memo.save()
    await remember(memo, 2)
    const second = memo.save()
    await Promise.all([first, second])
    expect(await onDisk()).toBe(2)
    // Nothing new: no write at all.
    const before = writes()
    await memo.save()
    expect(writes()).toBe(before)
  })

  it('writes stamps alone only when asked to', async () => {
    const file = join(dir, 's1.video.ts')
    await writeFile(file, 'export default {}\n')
    // Only a file settled for 2 s is stamped (see #hash).
    await settle()
    const memo = await SpecMemo.open(dir, 'offline')
    await memo.remember('s1.video.ts', spec(1), { inputs: { [file]: 'x' }, impure: false })
    await memo.save()
    const before = writes()
    // Hashing the input records its stamp: a change, but only of stamps.
    await memo.valid(['s1.video.ts'])
    await memo.save()
    expect(writes()).toBe(before)
    await memo.save(undefined, { stamps: true })
    expect(writes()).toBe(before + 1)
  })
})

describe('a dev server loading specs one by one', () => {
  it('writes the memo once for specs it finds unchanged (the stamps it learned), however many it loads at once, and then never', async () => {
    const { Vidspec } = await import('../project.js')
    const files: string[] = []
    for (let i = 0; i < 30; i++) {
      const file = join(dir, `s${i}.video.ts`)
      files.push(file)
      await writeFile(file, `import { defineVideo } from '@vidspec/core'\nexport default defineVideo({ model: 'minimax/hailuo-02', prompt: 'shot ${i}', seconds: 6, width: 160, height: 90 })\n`)
    }
    await writeFile(join(dir, 'vidspec.config.ts'), "export default { provider: 'offline' }\n")
    // Evaluated while too fresh to be vouched for by their stamps; settled, they get stamped by the
    // loads below: a change a dev server writes once, not 30 times.
    const first = await Vidspec.open({ root: dir })
    await first.ensureStore()
    expect((await first.loadAll()).every((l) => l.spec)).toBe(true)
    await settle()
    const before = writes()
    const dev = await Vidspec.open({ root: dir })
    await Promise.all(files.map((f) => dev.loadMemoized(f)))
    expect(writes()).toBe(before + 1)
    await Promise.all(files.map((f) => dev.loadMemoized(f)))
    const next = await Vidspec.open({ root: dir })
    await Promise.all(files.map((f) => next.loadMemoized(f)))
    expect(writes()).toBe(before + 1)
  })
})
