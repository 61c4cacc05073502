// `pnpm bench [name...]`: runs each benchmark in its own process, one after another (they would
// disturb each other's timings on a 2-core machine), and prints their figures.
import { spawn } from 'node:child_process'
import { join } from 'node:path'

const benchmarks: Record<string, { file: string; args: string[]; what: string }> = {
  'plan-noop': { file: 'plan-noop.ts', args: ['100,1000,10000'], what: 'no-op plan vs the read-and-hash floor, 100 / 1,000 / 10,000 specs' },
  'watch-latency': { file: 'watch-latency.ts', args: ['1000', '20'], what: 'write → decision, 1,000 specs watched, 20 edits' },
  throughput: { file: 'throughput.ts', args: ['200', '100'], what: '200 specs against a fake server limited to 8 jobs of 100 ms' },
  'throughput-long': { file: 'throughput.ts', args: ['80', '1000'], what: 'the same with jobs of 1 s: 80 specs, 8 at a time' },
  'streaming-memory': { file: 'streaming-memory.ts', args: ['512'], what: 'peak memory while a 512 MiB result downloads' },
  'vite-build': { file: 'vite-build.ts', args: ['50'], what: 'vite build with 50 clips: plugin vs plain asset imports' },
  micro: { file: 'micro.ts', args: [], what: 'tinybench: key, canonical JSON, memo check vs hashing' },
}

const wanted = process.argv.slice(2)
const unknown = wanted.filter((n) => !(n in benchmarks))
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}\navailable:\n${Object.entries(benchmarks).map(([n, b]) => `  ${n.padEnd(18)} ${b.what}`).join('\n')}`)
  process.exit(2)
}
let failed = 0
for (const name of wanted.length > 0 ? wanted : Object.keys(benchmarks)) {
  const b = benchmarks[name]!
  console.log(`\n=== ${name}: ${b.what}`)
  const started = performance.now()
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, b.file), ...b.args], { stdio: 'inherit' })
    child.on('close', resolve)
  })
  console.log(`=== ${name}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  if (code !== 0) failed++
}
process.exit(failed > 0 ? 1 : 0)
