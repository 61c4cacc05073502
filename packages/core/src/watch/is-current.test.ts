import { writeFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { sha256Hex } from '../key/key.js'
import * as load from '../spec/load.js'
import { isCurrent } from './tracker.js'

vi.mock('../spec/load.js', async (original) => {
  const real = await original<typeof import('../spec/load.js')>()
  return { ...real, hashReadable: vi.fn(real.hashReadable) }
})
/** The files each read-and-hash pass was asked for. */
const passes = () => vi.mocked(load.hashReadable).mock.calls.map(([files]) => files)

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vidspec-is-current-'))
  vi.mocked(load.hashReadable).mockClear()
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

const specOf = (files: Record<string, string>) => ({ depHashes: Object.fromEntries(Object.entries(files).map(([f, text]) => [f, sha256Hex(text)])), media: new Map() })

describe('isCurrent, asked for many specs at once (a dev server rechecking a page of specs)', () => {
  it('reads a module a thousand specs import once, and each spec file once', async () => {
    const shared = join(root, 'brand.ts')
    await writeFile(shared, 'brand')
    const specs = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const file = join(root, `s${i}.video.ts`)
        await writeFile(file, `spec ${i}`)
        return specOf({ [file]: `spec ${i}`, [shared]: 'brand' })
      }),
    )
    expect(await Promise.all(specs.map((s) => isCurrent(s)))).toEqual(specs.map(() => true))
    expect(passes()).toHaveLength(1)
    expect(passes()[0]).toHaveLength(1001)
  })

  it('answers each spec by its own files: one deleted or edited file fails only the specs made from it', async () => {
    const [a, b, shared] = ['a.video.ts', 'b.video.ts', 'shared.ts'].map((f) => join(root, f)) as [string, string, string]
    for (const f of [a, b, shared]) await writeFile(f, 'v1')
    const sa = specOf({ [a]: 'v1', [shared]: 'v1' })
    const sb = specOf({ [b]: 'v1', [shared]: 'v1' })
    await rm(a)
    expect(await Promise.all([isCurrent(sa), isCurrent(sb)])).toEqual([false, true])
    await writeFile(a, 'v1')
    await writeFile(b, 'v2')
    expect(await Promise.all([isCurrent(sa), isCurrent(sb)])).toEqual([true, false])
  })

  it('never answers from a read that started before the question: a later question reads again', async () => {
    const file = join(root, 'a.video.ts')
    await writeFile(file, 'one')
    const s = specOf({ [file]: 'one' })
    const first = isCurrent(s)
    // A save after the question and before the read (which waits for the turn to end): the read sees it.
    writeFileSync(file, 'two')
    expect(await first).toBe(false)
    await writeFile(file, 'one')
    expect(await isCurrent(s)).toBe(true)
    await writeFile(file, 'three')
    expect(await isCurrent(s)).toBe(false)
    expect(passes()).toHaveLength(3)
  })
})
