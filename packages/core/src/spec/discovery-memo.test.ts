import { mkdir, mkdtemp, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { discoverSpecs } from './discover.js'
import { globBase } from './discovery-memo.js'
import { settle } from './test-helpers.js'

describe('globBase', () => {
  it('is the folder part before the first magic character, and undefined for globs that may leave the root', () => {
    expect(globBase('**/*.video.ts')).toBe('')
    expect(globBase('src/**/*.video.ts')).toBe('src')
    expect(globBase('src/pages/hero.video.ts')).toBe('src/pages')
    expect(globBase('src/{a,b}/*.video.ts')).toBe('src')
    expect(globBase('../shared/*.video.ts')).toBeUndefined()
    expect(globBase('/abs/*.video.ts')).toBeUndefined()
    expect(globBase('!src/x.video.ts')).toBeUndefined()
  })
})

describe('discoverSpecs with its memo', () => {
  let root: string
  const config = () => ({ root, cacheDir: join(root, '.vidspec'), include: ['src/**/*.video.ts'], ignore: ['**/skip/**'] })
  const memoFile = () => join(root, '.vidspec/memo/discovery.json')
  const withMemo = () => discoverSpecs(config(), { memo: { write: true } })
  const plain = () => discoverSpecs(config())
  const touch = async (...rels: string[]) => {
    for (const rel of rels) {
      await mkdir(dirname(join(root, rel)), { recursive: true })
      await writeFile(join(root, rel), 'export default {}\n')
    }
  }

  beforeAll(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), 'vidspec-discovery-memo-')))
    await touch('src/a.video.ts', 'src/pages/b.video.ts', 'src/skip/c.video.ts', 'src/node_modules/d.video.ts', 'other/e.video.ts')
    await mkdir(join(root, '.vidspec'), { recursive: true })
    // Folders changed in the last 2 s are never vouched for (a second change in the same clock tick
    // could leave their stamp as it was): the first answer is remembered only once they settled.
    await settle()
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('remembers an answer over settled folders, and gives it back while no folder changed', async () => {
    const first = await withMemo()
    expect(first).toEqual(['src/a.video.ts', 'src/pages/b.video.ts'].map((f) => join(root, f)))
    const memo = JSON.parse(await readFile(memoFile(), 'utf8')) as { files: string[] }
    expect(memo.files).toEqual(first)
    // Proof that the answer comes from the memo: a planted answer over the same unchanged folders.
    await writeFile(memoFile(), JSON.stringify({ ...memo, files: ['/planted.video.ts'] }))
    expect(await withMemo()).toEqual(['/planted.video.ts'])
    // Other globs, the same folders: globbed again.
    expect(await discoverSpecs({ ...config(), include: ['src/*.video.ts'] }, { memo: { write: false } })).toEqual([join(root, 'src/a.video.ts')])
  })

  it('sees every change to the folders the globs reach: added, removed, renamed, a new nested folder', async () => {
    await touch('src/pages/deep/new.video.ts')
    expect(await withMemo()).toEqual(await plain())
    expect(await withMemo()).toContain(join(root, 'src/pages/deep/new.video.ts'))
    await rm(join(root, 'src/a.video.ts'))
    expect(await withMemo()).toEqual(await plain())
    await rename(join(root, 'src/pages/b.video.ts'), join(root, 'src/pages/b2.video.ts'))
    await settle()
    const again = await withMemo()
    expect(again).toEqual(await plain())
    expect(again).toEqual(['src/pages/b2.video.ts', 'src/pages/deep/new.video.ts'].map((f) => join(root, f)))
    // Remembered now that the folders settled, and still right after one more change.
    expect((JSON.parse(await readFile(memoFile(), 'utf8')) as { files: string[] }).files).toEqual(again)
    await touch('src/pages/deep/later.video.ts')
    expect(await withMemo()).toContain(join(root, 'src/pages/deep/later.video.ts'))
  })

  it('sees a base folder that did not exist when the answer was remembered', async () => {
    const cfg = { ...config(), include: ['src/**/*.video.ts', 'late/**/*.video.ts'] }
    await settle()
    await discoverSpecs(cfg, { memo: { write: true } })
    await touch('late/x/f.video.ts')
    expect(await discoverSpecs(cfg, { memo: { write: true } })).toContain(join(root, 'late/x/f.video.ts'))
  })
})
