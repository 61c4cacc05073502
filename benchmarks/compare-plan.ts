// A/B of `vidspec plan` between this checkout and another one (a clean clone of an earlier commit,
// installed and built): each CLI plans its own copy of one generated project (every clip cached;
// its own copy, so a change to a cache's format never makes either side rebuild the other's),
// alternating, with which goes first swapped every round, each in a fresh process, with the memo
// warm or, with --cold, removed before every plan (a fresh CI checkout with a restored store). Warm
// plans run in full: the answer a plan keeps is removed before each one (this checkout would repeat
// it, an older one has none), so both sides do the memos' work, the plan's work after an edit. What
// a change did to a plan, where plan.ts's ratios to the floor move too much between runs on a
// shared machine to show it.
// Every plan's output is checked: a run that is not a no-op stops the comparison.
// Usage: tsx benchmarks/compare-plan.ts <other checkout> [specs, default 1000] [--rounds N] [--cold]
import { rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { benchArgs } from './lib/args.js'
import { cliPath, fail, fmt, median, ratio, report, timed } from './lib/measure.js'
import { dropPlanAnswers, fillStore, generateProject, type BenchProject } from './lib/project.js'

const args = benchArgs()
const other = args.positional[0]
if (!other) fail('usage: tsx benchmarks/compare-plan.ts <other checkout> [specs] [--rounds N] [--cold]')
const otherCli = join(resolve(other), 'packages/watcher/bin/vidspec.js')
const rounds = args.number('--rounds', 8)
const size = Number(args.positional[1] ?? 1000)
const cold = args.has('--cold')

async function plan(project: BenchProject, cli: string): Promise<number> {
  if (cold) {
    await rm(join(project.root, '.vidspec/memo'), { recursive: true, force: true })
    await rm(join(project.root, 'node_modules/.cache/vidspec'), { recursive: true, force: true })
  }
  await dropPlanAnswers(project.root)
  const run = await timed(process.execPath, [cli, 'plan'], { cwd: project.root })
  const summary = run.stdout.trim().split('\n').at(-1) ?? ''
  const expected = `0 new, 0 changed, ${size} cached, 0 invalid`
  if (run.code !== 0 || summary !== expected) fail(`PRECONDITION FAILED: ${cli} at ${size} specs is not a no-op (exit ${run.code}): "${summary}"\n${run.stderr.slice(-2000)}`)
  return run.ms
}

const project = await generateProject(size)
const theirs = await generateProject(size)
try {
  await fillStore(project.root)
  await fillStore(theirs.root)
  // Both twice, untimed: the memo (unless --cold), the store's index and the OS's caches warm for either side alike.
  for (let i = 0; i < 2; i++) {
    await plan(project, cliPath)
    await plan(theirs, otherCli)
  }
  // Which side goes first swaps every round: the second of two back-to-back plans measured faster
  // here, whichever checkout it was (a warm A/B gave 0.87x one way round and 1.00x the other).
  const here: number[] = []
  const there: number[] = []
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) here.push(await plan(project, cliPath))
    there.push(await plan(theirs, otherCli))
    if (i % 2 === 1) here.push(await plan(project, cliPath))
  }
  const [a, b] = [median(there), median(here)]
  report(`vidspec plan, ${size} specs, memo ${cold ? 'cold' : 'warm'} (medians of ${rounds} fresh processes, alternating)`, [
    [`other (${other})`, `${fmt(a)}; rounds ${there.map((ms) => ms.toFixed(0)).join(' ')}`],
    ['this checkout', `${fmt(b)}; rounds ${here.map((ms) => ms.toFixed(0)).join(' ')}`],
    ['this / other', ratio(b, a)],
  ])
} finally {
  await project.dispose()
  await theirs.dispose()
}
