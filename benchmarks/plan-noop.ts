// Benchmarks 1 and 2: a no-op `vidspec plan` (every spec cached and unchanged) in a fresh process,
// against the floor (a plain Node script that finds, reads and hashes the same files), at several
// project sizes. Usage: tsx benchmarks/plan-noop.ts [sizes, default 100,1000,10000] [--rounds N]
import { join } from 'node:path'
import { cliPath, fail, fmt, interleave, median, ratio, report, timed } from './lib/measure.js'
import { fillStore, generateProject } from './lib/project.js'

const args = process.argv.slice(2)
const roundsAt = args.indexOf('--rounds')
const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 7
const sizes = (args.find((a) => /^\d+(,\d+)*$/.test(a)) ?? '100,1000,10000').split(',').map(Number)
const floorScript = join(import.meta.dirname, 'lib/floor.mjs')

const rows: Array<[string, string]> = []
const perSpec: Array<[number, number]> = []
for (const size of sizes) {
  const project = await generateProject(size)
  try {
    const plan = () => timed(process.execPath, [cliPath, 'plan', '--json'], { cwd: project.root })
    const cold = await plan()
    if (cold.code !== 0) fail(`cold plan failed:\n${cold.stderr}`)
    await fillStore(project.root)
    const check = await plan()
    const statuses = (JSON.parse(check.stdout) as { specs: Array<{ status: string }> }).specs.map((s) => s.status)
    if (statuses.length !== size || statuses.some((s) => s !== 'cached')) fail(`expected ${size} cached specs, got ${JSON.stringify(countOf(statuses))}`)

    const [warm, floor] = await interleave(
      rounds,
      async () => (await plan()).ms,
      async () => (await timed(process.execPath, [floorScript, project.root, project.shared], { cwd: project.root })).ms,
    )
    const w = median(warm)
    const f = median(floor)
    perSpec.push([size, w / size])
    rows.push(
      [`${size} specs: floor (read + sha256, fresh node)`, fmt(f)],
      [`${size} specs: vidspec plan, no-op (memo warm)`, `${fmt(w)}  = ${ratio(w, f)} the floor (target ≤ 2×)`],
      [`${size} specs: vidspec plan, first run (no memo)`, `${fmt(cold.ms)}  = ${ratio(cold.ms, f)} the floor`],
    )
  } finally {
    await project.dispose()
  }
}
report(`No-op plan (median of ${rounds} fresh processes each, interleaved)`, rows)
// Per spec at each size, and the marginal cost of each added spec between two sizes: the fixed cost
// of starting a process weighs on small projects; what must stay flat is the marginal cost.
report(
  'Scale: no-op plan per spec',
  perSpec.map(([n, ms], i) => {
    const prev = perSpec[i - 1]
    const marginal = prev ? `; marginal from ${prev[0]}: ${(((ms * n - prev[1] * prev[0]) / (n - prev[0])) * 1000).toFixed(0)} µs/spec` : ''
    return [`${n} specs`, `${(ms * 1000).toFixed(0)} µs/spec overall${marginal}`]
  }),
)

function countOf(values: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const v of values) out[v] = (out[v] ?? 0) + 1
  return out
}
