// In-process parts of a no-op plan, with tinybench: the cache key of one spec, its canonical JSON,
// and the spec memo's check of 1,000 specs against the sha256 floor of the same files.
// Usage: tsx benchmarks/micro.ts
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Bench } from 'tinybench'
import { Vidspec } from '@vidspec/core'
import { canonicalJson, computeKey, hashFiles } from '@vidspec/core/internal'
import { report } from './lib/measure.js'
import { fillStore, generateProject } from './lib/project.js'

const project = await generateProject(1000)
try {
  await fillStore(project.root)
  const vs = await Vidspec.open({ root: project.root })
  const loaded = await vs.loadAll()
  const spec = loaded[0]!.spec!
  const files = [...project.specFiles, project.shared]

  const bench = new Bench({ time: 500 })
  bench
    .add('floor: read + sha256 of 1,001 files (sync)', () => {
      for (const f of files) createHash('sha256').update(readFileSync(f)).digest('hex')
    })
    .add('hashFiles of the same 1,001 files', async () => {
      await hashFiles(files)
    })
    .add('loadAll of 1,000 unchanged specs (memo)', async () => {
      await vs.loadAll(project.specFiles)
    })
    .add('canonicalJson of one request', () => {
      canonicalJson(spec.request)
    })
    .add('computeKey of one spec', () => {
      computeKey({ provider: spec.provider, request: spec.request, media: spec.media })
    })
  await bench.run()
  const meanOf = (t: (typeof bench.tasks)[number]): number => {
    const r = t.result
    if (!r || !('latency' in r)) throw new Error(`${t.name}: no result (${r?.state ?? 'not run'})`)
    return r.latency.mean
  }
  const floor = meanOf(bench.tasks[0]!)
  report(
    'Micro (tinybench, mean per call; ratios against the floor of reading and hashing the files)',
    bench.tasks.map((t) => {
      const ms = meanOf(t)
      return [t.name, `${ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`}${ms > 1 ? `  = ${(ms / floor).toFixed(2)}× the floor` : ''}`]
    }),
  )
} finally {
  await project.dispose()
}
