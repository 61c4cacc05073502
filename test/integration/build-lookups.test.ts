import { afterEach, expect, it, vi } from 'vitest'
import { Vidspec } from '@vidspec/core'
import { Store } from '@vidspec/core/internal'
import { tempProject, type TempProject } from '../helpers/project.js'

// A build asks every tier for every key once, before the spend limits and --frozen decide; the specs
// it found are then answered from that, not looked up a second time (the second lookup and the run
// around it were about a seventh of a no-op build of 1,000 specs).
const spec = (seed: number) =>
  `import { defineVideo } from '@vidspec/core'\nexport default defineVideo({ model: 'minimax/hailuo-02', prompt: 'lookups', seconds: 1, width: 64, height: 64, fps: 8, seed: ${seed} })\n`

let project: TempProject | undefined
afterEach(async () => {
  vi.restoreAllMocks()
  await project?.dispose()
})

it('a build of cached specs reads each stored clip once, two specs of one request included', async () => {
  project = await tempProject({ 'a.video.ts': spec(1), 'b.video.ts': spec(2), 'twin.video.ts': spec(2) })
  const open = () => Vidspec.open({ root: project!.root, overrides: { provider: 'offline' } })
  const first = await (await open()).build({ lockfile: false })
  expect(first.counts).toMatchObject({ generated: 3, failed: 0 })

  const reads = vi.spyOn(Store.prototype, 'getEntry')
  const again = await (await open()).build({ lockfile: false })
  expect(again.counts).toMatchObject({ generated: 0, cached: 3 })
  expect(again.items.map((i) => i.entry?.key)).toEqual(first.items.map((i) => i.entry?.key))
  // Two keys, one read each.
  expect(reads.mock.calls.map(([key]) => key).sort()).toEqual([...new Set(first.items.map((i) => i.entry?.key))].sort())
})
