// Benchmark: memory over many edits of a heavy spec (issue 19.4). One spec imports a big JSON file
// (48 MB by default); it is edited `edits` times and loaded again after each edit through
// `Vidspec.load`, as `vidspec watch` and the dev server do. Before specs ran in recycled workers,
// every evaluation's modules stayed loaded in the process: 113 MB → 1.2 GB after 10 edits in dev.
// Reported: RSS after the first load, every 10 % of the run, at the end, and the ratio end/start.
// A figure, not a test: nothing is asserted. Usage: tsx benchmarks/spec-memory.ts [edits=300] [MB=48]
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Vidspec } from '@vidspec/core'

const EDITS = Number(process.argv[2] ?? 300)
const MB = Number(process.argv[3] ?? 48)
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`

const root = await mkdtemp(join(tmpdir(), 'vidspec-bench-spec-memory-'))
try {
  // ~MB megabytes of JSON: rows of a small object, as a design token or data dump would be.
  const row = JSON.stringify({ id: 0, name: 'a row of data, repeated', tags: ['x', 'y', 'z'], value: 0.123456 })
  const rows = Math.ceil((MB * 1024 * 1024) / (row.length + 1))
  await writeFile(join(root, 'data.json'), `[${Array.from({ length: rows }, (_, i) => row.replace('"id":0', `"id":${i}`)).join(',')}]`)
  const spec = (n: number) =>
    "import { defineVideo } from '@vidspec/core'\nimport data from './data.json'\n" +
    `export default defineVideo({ model: 'minimax/hailuo-02', prompt: \`edit ${n}, \${data.length} rows\`, seconds: 1, width: 160, height: 90 })\n`
  const file = join(root, 'heavy.video.ts')
  await writeFile(file, spec(0))
  const vs = await Vidspec.open({ root, env: {}, overrides: { provider: 'offline', specTimeoutMs: 60_000 } })
  const started = performance.now()
  await vs.load(file)
  global.gc?.()
  const start = process.memoryUsage().rss
  let peak = start
  const samples: string[] = []
  for (let i = 1; i <= EDITS; i++) {
    await writeFile(file, spec(i))
    const loaded = await vs.load(file)
    if (loaded.request.prompt !== `edit ${i}, ${rows} rows`) throw new Error(`edit ${i}: got ${loaded.request.prompt}`)
    const rss = process.memoryUsage().rss
    peak = Math.max(peak, rss)
    if (i % Math.max(1, Math.round(EDITS / 10)) === 0) samples.push(`${i}: ${mib(rss)}`)
  }
  const end = process.memoryUsage().rss
  const perEdit = (performance.now() - started) / (EDITS + 1)
  console.log(`spec-memory: ${EDITS} edits of a spec importing ${MB} MB of JSON (${rows} rows), ${perEdit.toFixed(0)} ms per load`)
  console.log(`  RSS (main process, workers included) after the first load ${mib(start)}, peak ${mib(peak)}, at the end ${mib(end)}: end/start ${(end / start).toFixed(2)}x`)
  console.log(`  samples: ${samples.join(', ')}`)
} finally {
  await rm(root, { recursive: true, force: true })
}
