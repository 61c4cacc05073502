import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { ExitCode, VidspecError, type JournalRecord, type UncertainCreate } from '@vidspec/core'
import { commonOptions } from '../args.js'
import { printJson, type Io } from '../output.js'
import { openProject } from '../project.js'
import { Reporter } from '../reporter.js'

export const forgetHelp = `Usage: vidspec forget <key|spec> [options]

Removes one paid job from the journal: a journaled job (with its id) or an uncertain create. Nothing
else ever removes a journaled job, not even a provider answering that it does not know the job (that
is usually a wrong TOGETHER_BASE_URL or API key). After forget, the next build of that spec pays for
a new job. \`vidspec status\` lists what is journaled, with each key.

Arguments:
  key                   the cache key (as shown by status), or a unique prefix of at least 8 characters
  spec                  a spec file (project-relative or a path); must match exactly one journaled job

Options:
  --root DIR            project root (default: current directory)
  --config FILE         config file
  --json                print what was removed as JSON on stdout
  -h, --help            show this help

Exit codes: 0 removed, 2 nothing or more than one job matched, or a build holds it now (nothing removed).`

interface Journaled {
  key: string
  spec: string
  jobId?: string | undefined
}

export async function forget(argv: string[], io: Io): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: commonOptions, allowPositionals: true, strict: true })
  } catch (err) {
    throw new VidspecError('USAGE', `${err instanceof Error ? err.message : String(err)}. Run "vidspec forget --help".`)
  }
  const { values, positionals } = parsed
  if (values.help) {
    io.stdout.write(`${forgetHelp}\n`)
    return ExitCode.ok
  }
  if (positionals.length !== 1) {
    throw new VidspecError('USAGE', 'name exactly one key or spec. Run "vidspec status" to see the journaled jobs.')
  }
  const target = positionals[0] as string
  const project = await openProject(io, values, new Reporter(io, { quiet: true }))
  const { journals, uncertain } = await project.journaled()
  const known = new Map<string, Journaled>()
  for (const r of [...uncertain, ...journals] as Array<JournalRecord | UncertainCreate>) {
    known.set(r.key, { key: r.key, spec: r.spec, jobId: 'jobId' in r ? r.jobId : known.get(r.key)?.jobId })
  }
  const asSpec = project.specId(resolve(io.cwd, target))
  const matches = [...known.values()].filter(
    (j) => j.key === target || (target.length >= 8 && j.key.startsWith(target)) || j.spec === target || j.spec === asSpec,
  )
  if (matches.length !== 1) {
    const listed = [...known.values()].map((j) => `  ${j.key}  ${j.spec}${j.jobId ? `  job ${j.jobId}` : '  (uncertain)'}`)
    throw new VidspecError(
      'USAGE',
      `${matches.length === 0 ? 'no journaled job matches' : `${matches.length} journaled jobs match`} ${JSON.stringify(target)}; nothing was removed.` +
        (listed.length > 0 ? ` Journaled:\n${listed.join('\n')}` : ' The journal is empty.'),
    )
  }
  const match = matches[0] as Journaled
  const removed = await project.forgetJob(match.key)
  if (removed.busy) {
    throw new VidspecError(
      'USAGE',
      `a build is working on ${match.spec} right now (key ${match.key} is locked by a live process); nothing was removed. Stop it first.`,
    )
  }
  const jobId = removed.journal?.jobId
  if (values.json) printJson(io, { key: match.key, spec: match.spec, jobId, uncertain: removed.uncertain !== undefined || !jobId })
  else {
    io.stdout.write(
      `forgot ${match.spec}: ${jobId ? `job ${jobId}` : 'an uncertain create'} (key ${match.key}); the next build of this spec pays for a new job\n`,
    )
  }
  return ExitCode.ok
}
