// `pnpm bench [name...]`: runs each benchmark in its own process, one after another (they would
// disturb each other's timings on a 2-core machine), prints their figures, and at the end every row
// of issue 17's table that the benchmarks run gave, as ratios from this run.
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SummaryRow } from './lib/measure.js'

const benchmarks: Record<string, { file: string; args: string[]; what: string }> = {
  plan: { file: 'plan.ts', args: ['100,1000,10000'], what: 'plan, memo warm and cold, vs the tight read-and-hash floor, 100 / 1,000 / 10,000 specs' },
  'watch-latency': { file: 'watch-latency.ts', args: ['1000', '20'], what: 'write → decision, 1,000 specs watched, 20 edits' },
  throughput: { file: 'throughput.ts', args: ['200', '100'], what: '200 specs against a fake server limited to 8 jobs of 100 ms; client CPU per job' },
  'throughput-long': { file: 'throughput.ts', args: ['80', '1000', '--rounds', '1'], what: 'the same with jobs of 1 s: 80 specs, 8 at a time' },
  'streaming-memory': { file: 'streaming-memory.ts', args: ['512'], what: 'peak memory while a 512 MiB result downloads' },
  'vite-build': { file: 'vite-build.ts', args: ['50'], what: 'vite build with 50 clips: plugin vs plain asset imports' },
  'dev-server': { file: 'dev-server.ts', args: ['1000'], what: 'dev server first page load, 1,000 specs, memo warm and cold, vs a plain Vite app' },
  renditions: { file: 'renditions.ts', args: ['20'], what: 'one rendition through vidspec vs ffmpeg directly; no-op build --out with renditions vs without' },
  micro: { file: 'micro.ts', args: [], what: 'tinybench: key, canonical JSON, memo check vs hashing' },
}

const wanted = process.argv.slice(2)
const unknown = wanted.filter((n) => !(n in benchmarks))
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}\navailable:\n${Object.entries(benchmarks).map(([n, b]) => `  ${n.padEnd(18)} ${b.what}`).join('\n')}`)
  process.exit(2)
}
const summaryDir = await mkdtemp(join(tmpdir(), 'vidspec-bench-summary-'))
const summaryFile = join(summaryDir, 'rows.jsonl')
const failures: string[] = []
for (const name of wanted.length > 0 ? wanted : Object.keys(benchmarks)) {
  const b = benchmarks[name]!
  console.log(`\n=== ${name}: ${b.what}`)
  const started = performance.now()
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, b.file), ...b.args], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_SUMMARY: summaryFile },
    })
    child.on('close', resolve)
  })
  console.log(`=== ${name}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  if (code !== 0) failures.push(name)
}

const rows = (await readFile(summaryFile, 'utf8').catch(() => ''))
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as SummaryRow)
  .sort((a, b) => a.order - b.order)
await rm(summaryDir, { recursive: true, force: true })
if (rows.length > 0) {
  const verdict = (r: SummaryRow) => (r.met === undefined ? '' : r.met ? 'met' : 'MISSED')
  const cells = rows.map((r) => [r.measure, r.value, r.target, verdict(r), r.figure])
  const widths = [0, 1, 2, 3].map((i) => Math.max(...cells.map((c) => (c[i] ?? '').length)))
  console.log('\nIssue 17 table (ratios from this run; each benchmark interleaves its own rounds)')
  for (const c of cells) console.log(`  ${c.map((v, i) => (i < 4 ? v.padEnd(widths[i] ?? 0) : v)).join('  ')}`)
}
if (failures.length > 0) {
  console.error(`\nFAILED: ${failures.join(', ')} (a failed benchmark prints no ratio: its figures would not be honest)`)
  process.exit(1)
}
