// Issue 17, rows 1–3: `vidspec plan` in a fresh process, every spec cached and unchanged, against the
// tight floor (lib/floor.mjs: a fresh `node` reading and sha256-ing the specs and the shared module
// synchronously), at several project sizes, with the memo warm and cold (memos deleted, store
// present: a fresh CI checkout with a restored cache). Warm twice: answered from the answer the
// plan before kept (what a no-op plan does), and in full with no kept answer (the memos' work).
// Floor, warm and cold plans alternate round by round and each figure is a median, so drift on a
// shared machine hits them all alike.
// Beside them, reported: a no-op `vidspec build` (what CI runs on a restored cache), memo warm.
// Every plan's output is checked: a run where some spec is not cached, or is invalid, is not a
// no-op and the benchmark stops with a message instead of printing a ratio.
// Usage: tsx benchmarks/plan.ts [sizes, default 100,1000,10000] [--rounds N] [--cold-rounds N]
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { benchArgs } from './lib/args.js'
import { cliPath, fail, fmt, interleaveAll, median, report, summarize, timed } from './lib/measure.js'
import { dropPlanAnswers, fillStore, generateProject, planAnswers, type BenchProject } from './lib/project.js'

const args = benchArgs()
const rounds = args.number('--rounds', 7)
const sizes = (args.positional[0] ?? '100,1000,10000').split(',').map(Number)
const floorScript = join(import.meta.dirname, 'lib/floor.mjs')
const WARM_TARGET = 1.5
const COLD_TARGET = 5

/** Runs `vidspec plan` and fails the benchmark unless every spec is cached and none is invalid. */
async function plan(project: BenchProject, size: number, what: string): Promise<number> {
  const run = await timed(process.execPath, [cliPath, 'plan'], { cwd: project.root })
  const summary = run.stdout.trim().split('\n').at(-1) ?? ''
  const expected = `0 new, 0 changed, ${size} cached, 0 invalid`
  if (run.code !== 0 || summary !== expected) {
    fail(`PRECONDITION FAILED: ${what} at ${size} specs is not a no-op (exit ${run.code}): "${summary}", expected "${expected}"\n${run.stderr.slice(-2000)}`)
  }
  return run.ms
}

async function floor(project: BenchProject, size: number): Promise<number> {
  const run = await timed(process.execPath, [floorScript, project.specDir, project.shared], { cwd: project.root })
  if (run.code !== 0 || run.stdout.trim() !== String(size + 1)) fail(`the floor script read ${run.stdout.trim()} files, expected ${size + 1}:\n${run.stderr}`)
  return run.ms
}

/** Runs `vidspec build` and fails the benchmark unless it found every clip cached and made none. */
async function build(project: BenchProject, size: number, what: string): Promise<number> {
  const run = await timed(process.execPath, [cliPath, 'build', '--json'], { cwd: project.root })
  const counts = run.code === 0 ? (JSON.parse(run.stdout) as { counts: Record<string, number> }).counts : undefined
  if (counts?.cached !== size || Object.values(counts).reduce((a, b) => a + b, 0) !== size) {
    fail(`PRECONDITION FAILED: ${what} at ${size} specs is not a no-op (exit ${run.code}): ${JSON.stringify(counts)}\n${run.stderr.slice(-2000)}`)
  }
  return run.ms
}

/** A no-op plan that cannot repeat the last one's answer (none is kept): the memos do all the work. */
async function fullPlan(project: BenchProject, size: number): Promise<number> {
  await dropPlanAnswers(project.root)
  const ms = await plan(project, size, 'a warm plan in full')
  // It kept its answer for the next plan, which the replayed round measures.
  if ((await planAnswers(project.root)).length === 0) fail(`PRECONDITION FAILED: a warm plan in full at ${size} specs kept no answer (set VIDSPEC_DEBUG=1 to see why)`)
  return ms
}

/** What a fresh checkout with a restored `.vidspec/` lacks: the spec memo and the config memo. */
async function dropMemos(project: BenchProject): Promise<void> {
  await rm(join(project.root, '.vidspec/memo'), { recursive: true, force: true })
  await rm(join(project.root, 'node_modules/.cache/vidspec'), { recursive: true, force: true })
}

interface Sized {
  size: number
  floor: number
  warm: number
  full: number
  cold: number
  coldRounds: number
  build: number
  buildRounds: number
}
const results: Sized[] = []
for (const size of sizes) {
  const project = await generateProject(size)
  try {
    await fillStore(project.root)
    await plan(project, size, 'the first plan after filling the store')
    // The first build records each spec's build and brings the memo up to date: what later ones find.
    await build(project, size, 'the first build after filling the store')
    // A plan keeps its answer only over files that settled 2 s before it began (RACY_MS).
    await new Promise((r) => setTimeout(r, 2100))
    // A cold plan or a build of 10,000 specs takes seconds: fewer of those rounds, interleaved all the same.
    const buildRounds = size >= 10_000 ? Math.min(3, rounds) : rounds
    const coldRounds = args.number('--cold-rounds', buildRounds)
    const [f, u, w, b, c] = await interleaveAll(rounds, [
      () => floor(project, size),
      () => fullPlan(project, size),
      () => plan(project, size, 'a warm plan'),
      async (round) => (round < buildRounds ? build(project, size, 'a no-op build') : undefined),
      async (round) => {
        if (round >= coldRounds) return undefined
        await dropMemos(project)
        return plan(project, size, 'a cold plan')
      },
    ])
    results.push({ size, floor: median(f ?? []), warm: median(w ?? []), full: median(u ?? []), cold: median(c ?? []), coldRounds, build: median(b ?? []), buildRounds })
  } finally {
    await project.dispose()
  }
}

const x = (v: number) => `${v.toFixed(2)}×`
report(
  `Plan, every spec cached (medians of ${rounds} fresh processes each, interleaved with the floor)`,
  results.flatMap((r) => [
    [`${r.size} specs: tight floor (sync read + sha256, fresh node)`, fmt(r.floor)],
    [`${r.size} specs: no-op plan, memo warm`, `${fmt(r.warm)}  = ${x(r.warm / r.floor)} the floor (target ≤ ${WARM_TARGET}×)`],
    [`${r.size} specs: the same in full (no kept answer)`, `${fmt(r.full)}  = ${x(r.full / r.floor)} the floor`],
    [`${r.size} specs: plan, memo cold (median of ${r.coldRounds})`, `${fmt(r.cold)}  = ${x(r.cold / r.floor)} the floor (target ≤ ${COLD_TARGET}×)`],
    [`${r.size} specs: no-op build, memo warm (median of ${r.buildRounds})`, `${fmt(r.build)}  = ${x(r.build / r.floor)} the floor`],
  ]),
)
// Linear means the cost of each added spec stays flat as the project grows: the marginal cost
// between two sizes, for the plan and for the floor (whose own cost per file is the yardstick).
const marginal = (a: Sized, b: Sized, k: 'floor' | 'warm' | 'full' | 'cold') => ((b[k] - a[k]) / (b.size - a.size)) * 1000
report(
  'Scale: marginal cost per added spec (µs)',
  results.slice(1).map((b, i) => {
    const a = results[i] as Sized
    return [
      `${a.size} → ${b.size}`,
      `floor ${marginal(a, b, 'floor').toFixed(0)}, warm ${marginal(a, b, 'warm').toFixed(0)} (in full ${marginal(a, b, 'full').toFixed(0)}), cold ${marginal(a, b, 'cold').toFixed(0)} µs/spec`,
    ]
  }),
)

for (const r of results) {
  const n = r.size.toLocaleString('en')
  await summarize({
    order: 10 + results.indexOf(r),
    measure: `no-op plan, memo warm, ${n} specs`,
    figure: `${fmt(r.warm)} vs tight floor ${fmt(r.floor)}`,
    value: x(r.warm / r.floor),
    target: `≤ ${WARM_TARGET}×`,
    met: r.size >= 1000 ? r.warm / r.floor <= WARM_TARGET : undefined,
  })
  await summarize({
    order: 15 + results.indexOf(r),
    measure: `no-op plan in full (no kept answer), ${n} specs`,
    figure: `${fmt(r.full)} vs tight floor ${fmt(r.floor)}`,
    value: x(r.full / r.floor),
    target: '(reported)',
    met: undefined,
  })
  await summarize({
    order: 20 + results.indexOf(r),
    measure: `plan, memo cold (store present), ${n} specs`,
    figure: `${fmt(r.cold)} vs tight floor ${fmt(r.floor)}`,
    value: x(r.cold / r.floor),
    target: `≤ ${COLD_TARGET}×`,
    met: r.size >= 1000 ? r.cold / r.floor <= COLD_TARGET : undefined,
  })
  await summarize({
    order: 25 + results.indexOf(r),
    measure: `no-op \`vidspec build\`, memo warm, ${n} specs`,
    figure: `${fmt(r.build)} vs tight floor ${fmt(r.floor)}`,
    value: x(r.build / r.floor),
    target: '(reported)',
    met: undefined,
  })
}
const big = results.find((r) => r.size === 10_000)
const mid = results.find((r) => r.size === 1000)
if (big && mid) {
  // Linear: the cold plan's cost per spec at 10,000 is no more than at 1,000 (start-up amortised).
  const perSpec = (r: Sized) => r.cold / r.size
  const growth = perSpec(big) / perSpec(mid)
  await summarize({
    order: 29,
    measure: 'cold plan linearity: cost per spec at 10,000 vs at 1,000',
    figure: `${((perSpec(mid) * 1000).toFixed(0))} → ${(perSpec(big) * 1000).toFixed(0)} µs/spec; marginal ${marginal(mid, big, 'cold').toFixed(0)} µs/spec`,
    value: x(growth),
    target: '≤ 1× (linear)',
    met: growth <= 1.05,
  })
}
