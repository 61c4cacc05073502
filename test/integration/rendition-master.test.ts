import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { Vidspec, type LoadedSpec } from '@vidspec/core'
import { tempProject, type TempProject } from '../helpers/project.js'

// An adapter that has just looked a spec's clip up (`assetFor`) hands it to `renditionPlan` and
// `obtainRenditions` instead of having it looked up again: a Vite build did every lookup twice. The
// clip handed over is used only when it is the spec's own: otherwise the store is asked, as before.

const spec = (prompt: string) =>
  "import { defineVideo } from '@vidspec/core'\n" +
  `export default defineVideo({ model: 'minimax/hailuo-02', prompt: ${JSON.stringify(prompt)}, seconds: 1, width: 64, height: 64, fps: 8 })\n`

let p: TempProject
let project: Vidspec
let a: LoadedSpec
let b: LoadedSpec

beforeAll(async () => {
  p = await tempProject({
    'vidspec.config.ts': "export default { provider: 'offline', renditions: false }\n",
    'a.video.ts': spec('a'),
    'b.video.ts': spec('b'),
  })
  project = await Vidspec.open({ root: p.root, env: { ...process.env, CI: undefined } })
  const built = await project.build({ lockfile: false })
  expect(built.counts.generated).toBe(2)
  const loaded = await project.loadAll()
  ;[a, b] = loaded.map((r) => r.spec as LoadedSpec).sort((x, y) => x.id.localeCompare(y.id)) as [LoadedSpec, LoadedSpec]
})
afterAll(async () => {
  await p?.dispose()
})

it('plans from the clip handed over, and asks the store when it is another spec\'s', async () => {
  const entryA = await project.assetFor(a)
  const entryB = await project.assetFor(b)
  expect(entryA && entryB).toBeTruthy()
  const looked = await project.renditionPlan(a)
  expect(await project.renditionPlan(a, '', { master: entryA })).toEqual(looked)
  expect((await project.obtainRenditions(a, '', { master: entryA })).plan).toEqual(looked)

  // A's entry gone: only a lookup can tell, so the clip handed over is what answers.
  await rm(p.path('.vidspec/entries', `${a.key}.json`))
  await expect(project.renditionPlan(a)).rejects.toThrow(/no clip is stored for it yet/)
  expect(await project.renditionPlan(a, '', { master: entryA })).toEqual(looked)
  expect((await project.obtainRenditions(a, '', { master: entryA })).plan).toEqual(looked)
  // B's clip is not A's: the store is asked, and has none for A.
  await expect(project.renditionPlan(a, '', { master: entryB })).rejects.toThrow(/no clip is stored for it yet/)
  await expect(project.obtainRenditions(a, '', { master: entryB })).rejects.toThrow(/no clip is stored for it yet/)
})
