import { ExitCode, describeChange, explainPlan, type PlanItem } from '@vidspec/core'
import { parse, providerFlag } from '../args.js'
import { planOptions } from '../options.js'
import { printJson, type Io } from '../output.js'
import { noSpecsMessage, openProject } from '../project.js'
import { cliFiles, planQuery, recordingIo } from '../plan-replay.js'
import { Reporter } from '../reporter.js'

export const planHelp = `Usage: vidspec plan [options]

Says, for each spec, what a build would do without doing it: new, changed (with the fields that
changed since the approved or last build), cached, or invalid, and for paid work the estimated cost
per spec and in total (prices: the config's \`prices\`, Together's published ones, earlier clips in
the store). Shows each distinct spec warning once. Makes no request, spends nothing, creates no store.

Options:
  --root DIR            project root (default: the nearest folder upward with a vidspec.config.*)
  --config FILE         config file
  --provider NAME       together | offline (keys differ per provider)
  --explain             for each changed spec, every field that differs from the approved (lockfile)
                        or last-built request (long texts: the changed words with context), the files
                        that changed, and the cause when it is known; a provider switch is named
  --json                print the plan as JSON on stdout
  -h, --help            show this help

Exit codes: 0 ok, 2 some spec is invalid.`

export async function plan(argv: string[], given: Io, signal?: AbortSignal): Promise<number> {
  const startedAt = Date.now()
  const { values } = parse('plan', argv, planOptions)
  if (values.help) {
    given.stdout.write(`${planHelp}\n`)
    return ExitCode.ok
  }
  // What this plan prints is kept for the next one (plan-replay.ts), when core finds it may be.
  const { io, output } = recordingIo(given)
  const provider = providerFlag('plan', values.provider)
  const reporter = new Reporter(io, { quiet: true })
  const project = await openProject(io, values, reporter, provider ? { provider } : {})
  const items = await project.plan(undefined, { signal })
  if (items.length === 0) io.stderr.write(`vidspec plan: ${noSpecsMessage(project)}\n`)
  if (values.json) printJson(io, { provider: project.provider.id, specs: items.map(planJson) })
  else io.stdout.write(values.explain ? `${explainPlan(items)}${planSummary(items)}\n` : planText(items))
  const exitCode = items.some((i) => i.status === 'invalid') ? ExitCode.badInput : ExitCode.ok
  // A CI job plans once per checkout, and its files' stamps are new each time: nothing would repeat
  // the answer, and keeping it costs a full plan ~8 % (1,000 or 10,000 specs).
  if (given.env.CI !== 'true' && !signal?.aborted) {
    await project.recordPlanVerdict(items, { query: planQuery(argv, given), startedAt, verdict: { output, exitCode }, code: cliFiles() })
  }
  return exitCode
}

function planJson(item: PlanItem) {
  return {
    spec: item.id,
    name: item.name,
    status: item.status,
    key: item.key,
    changes: item.changes?.map((c) => ({ path: c.path, kind: c.kind, before: c.before, after: c.after })),
    changedDeps: item.changedDeps,
    basis: item.basis,
    restorable: item.restorable,
    remote: item.remote,
    estimate: item.estimate,
    error: item.error ? { code: item.error.code, message: item.error.message, issues: item.error.issues } : undefined,
  }
}

export function planText(items: PlanItem[]): string {
  const lines: string[] = []
  for (const item of items) {
    lines.push(`${item.status.padEnd(8)} ${item.id}${item.remote ? ' (remote)' : ''}${costNote(item)}`)
    for (const change of item.changes ?? []) lines.push(`           ${describeChange(change)}`)
    if (item.status === 'changed' && item.changedDeps && item.changedDeps.length > 0) {
      lines.push(`           changed files: ${item.changedDeps.join(', ')}`)
    }
    if (item.error) for (const l of item.error.message.split('\n')) lines.push(`           ${l}`)
  }
  lines.push(planSummary(items))
  return `${lines.join('\n')}\n`
}

/** `  ~$0.30` for a paid generation with a known price, `  (no price known)` without one. */
function costNote(item: PlanItem): string {
  if (item.status !== 'new' && item.status !== 'changed') return ''
  if (item.estimate === undefined) return item.spec && 'estimate' in item ? '  (no price known)' : ''
  return `  ~$${item.estimate.toFixed(2)}`
}

/** The counts, and what the work would cost when the provider is paid. */
export function planSummary(items: PlanItem[]): string {
  const count = (s: string) => items.filter((i) => i.status === s).length
  const paid = items.filter((i) => 'estimate' in i)
  const known = paid.filter((i) => i.estimate !== undefined)
  const total = known.reduce((sum, i) => sum + (i.estimate ?? 0), 0)
  const cost =
    paid.length === 0
      ? ''
      : `; estimated cost ~$${total.toFixed(2)}${known.length < paid.length ? ` (+ ${paid.length - known.length} spec(s) with no price known: add them to \`prices\` in the config)` : ''}`
  return `${count('new')} new, ${count('changed')} changed, ${count('cached')} cached, ${count('invalid')} invalid${cost}`
}
