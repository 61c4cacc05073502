import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { configDefaults } from '../config/resolve.js'
import { SPEC_FILE_RE, discoverSpecs, specId, specName } from './discover.js'

let root: string

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'vidspec-discover-test-')))
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

async function touch(...rels: string[]): Promise<void> {
  for (const rel of rels) {
    await mkdir(dirname(join(root, rel)), { recursive: true })
    await writeFile(join(root, rel), 'export default {}\n')
  }
}

const config = (over: { include?: string[]; ignore?: string[]; cacheDir?: string } = {}) => ({
  root,
  cacheDir: join(root, over.cacheDir ?? '.vidspec'),
  include: over.include ?? ['**/*.video.ts'],
  ignore: over.ignore ?? [],
})

describe('discoverSpecs', () => {
  it('by default finds exactly the files SPEC_FILE_RE names a spec: ts, mts, js and mjs', async () => {
    await touch('a.video.ts', 'b.video.mts', 'c.video.js', 'd.video.mjs', 'e.video.tsx', 'f.video.cjs', 'g.video.json', 'h.ts')
    const found = await discoverSpecs({ ...config(), include: [...configDefaults.include] })
    expect(found).toEqual(['a.video.ts', 'b.video.mts', 'c.video.js', 'd.video.mjs'].map((f) => join(root, f)))
    expect(found.every((f) => SPEC_FILE_RE.test(f))).toBe(true)
    expect(['e.video.tsx', 'f.video.cjs', 'g.video.json'].some((f) => SPEC_FILE_RE.test(f))).toBe(false)
  })

  it('finds specs anywhere under the root, absolute and sorted', async () => {
    await touch('src/pages/b.video.ts', 'a.video.ts', 'src/pages/a.video.ts', 'src/helper.ts', 'src/c.video.tsx')
    expect(await discoverSpecs(config())).toEqual([join(root, 'a.video.ts'), join(root, 'src/pages/a.video.ts'), join(root, 'src/pages/b.video.ts')])
  })

  it('always skips node_modules, dist, build, .git and the cache dir', async () => {
    await touch(
      'keep.video.ts',
      'node_modules/pkg/x.video.ts',
      'packages/app/node_modules/pkg/x.video.ts',
      'dist/x.video.ts',
      'packages/app/build/x.video.ts',
      '.git/x.video.ts',
      'store/objects/x.video.ts',
    )
    expect(await discoverSpecs(config({ cacheDir: 'store', include: ['**/*.video.ts', '.git/*.video.ts'] }))).toEqual([join(root, 'keep.video.ts')])
  })

  it('applies the user ignore globs and include globs', async () => {
    await touch('src/a.video.ts', 'src/drafts/b.video.ts', 'other/c.video.ts', 'src/d.video.mts')
    const found = await discoverSpecs(config({ include: ['src/**/*.video.{ts,mts}'], ignore: ['**/drafts/**'] }))
    expect(found).toEqual([join(root, 'src/a.video.ts'), join(root, 'src/d.video.mts')])
  })

  it('does not walk a symlinked folder into node_modules', async () => {
    await touch('keep.video.ts', 'node_modules/pkg/specs/x.video.ts')
    await symlink(join(root, 'node_modules/pkg/specs'), join(root, 'linked'), 'dir')
    expect(await discoverSpecs(config())).toEqual([join(root, 'keep.video.ts')])
  })

  it('treats a cache dir with glob characters literally', async () => {
    await touch('cache[1]/x.video.ts', 'cache1/y.video.ts')
    expect(await discoverSpecs(config({ cacheDir: 'cache[1]' }))).toEqual([join(root, 'cache1/y.video.ts')])
  })
})

describe('specId and specName', () => {
  it('gives the project-relative posix path and the name without the spec suffix', () => {
    const file = join(root, 'pages', 'hero.video.ts')
    expect(specId(root, file)).toBe('pages/hero.video.ts')
    expect(specName(root, file)).toBe('pages/hero')
    expect(specName(root, join(root, 'intro.video.mts'))).toBe('intro')
    expect(specName(root, join(root, 'a/b/outro.video.js'))).toBe('a/b/outro')
    expect(specName(root, join(root, 'video.ts'))).toBe('video.ts')
    expect(specName(root, join(root, 'my.video.ts.bak'))).toBe('my.video.ts.bak')
  })

  it('agrees with path.relative for paths that are not plain: dots, doubled or trailing separators, prefixes, outside', () => {
    const roots = [root, `${root}/`, `${root}/./`, `${root}/sub/..`, `${root}//`, '/', '/p/site']
    const files = [
      `${root}/a.video.ts`,
      `${root}//a.video.ts`,
      `${root}/x/../a.video.ts`,
      `${root}/./b/a.video.ts`,
      `${root}-sibling/a.video.ts`,
      `${root}/..`,
      '/elsewhere/a.video.ts',
      'relative/a.video.ts',
      `${root}/b/.`,
      `${root}/..hidden/a.video.ts`,
      '/p/site/x/../b.video.ts',
    ]
    for (const r of roots) {
      for (const f of files) {
        expect(specId(r, f), `${r} ${f}`).toBe(relative(resolve(r), resolve(r, f)).split(sep).join('/'))
      }
    }
  })
})
