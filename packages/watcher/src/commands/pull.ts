import { ExitCode, type PullOutcome } from '@vidspec/core'
import { commonOptions, parse } from '../args.js'
import { printJson, type Io } from '../output.js'
import { openProject } from '../project.js'
import { Reporter } from '../reporter.js'
import { requireRemote } from './push.js'

export const pullHelp = `Usage: vidspec pull [options]

Downloads from the remote cache (remote.s3 in vidspec.config.ts) the clips of the current specs that
the local cache does not have. Every object is checked against its entry's sha256 before it is
stored; one that does not match is reported and left out. Works in read-only mode too.

Options:
  --root DIR            project root (default: the nearest folder upward with a vidspec.config.*)
  --config FILE         config file
  --all                 every clip in the remote cache, not only those of current specs
  --dry-run             list what would be downloaded, download nothing
  --json                print the result as JSON on stdout
  -h, --help            show this help

Exit codes: 0 ok, 1 a remote clip was rejected or the remote could not be reached, 2 no remote configured.`

export async function pull(argv: string[], io: Io, signal: AbortSignal): Promise<number> {
  const { values } = parse('pull', argv, { ...commonOptions, all: { type: 'boolean' }, 'dry-run': { type: 'boolean' } })
  if (values.help) {
    io.stdout.write(`${pullHelp}\n`)
    return ExitCode.ok
  }
  const project = await openProject(io, values, new Reporter(io, { quiet: true }))
  const remote = requireRemote(project, 'pull')
  const dryRun = Boolean(values['dry-run'])
  // pull fills the cache: like build, it may create the store (a dry run does not).
  if (!dryRun) await project.ensureStore()
  const { results, cached, invalid } = await project.pull({ all: Boolean(values.all), dryRun, signal })
  const of = (o: PullOutcome) => results.filter((r) => r.outcome === o)
  if (values.json) {
    printJson(io, {
      remote: remote.where,
      dryRun,
      fetched: of('fetched').map(({ spec, key }) => ({ spec, key })),
      absent: of('absent').map(({ spec, key }) => ({ spec, key })),
      rejected: of('rejected').map(({ spec, key, reason }) => ({ spec, key, reason })),
      cached,
      invalid,
    })
  } else {
    for (const r of of('fetched')) io.stdout.write(`${dryRun ? 'would pull' : 'pulled'}  ${r.spec}  ${r.key.slice(0, 12)}\n`)
    for (const r of of('rejected')) io.stdout.write(`rejected  ${r.spec}: ${r.reason ?? ''}\n`)
    io.stderr.write(
      `vidspec: ${of('fetched').length} ${dryRun ? 'to pull' : 'pulled'}, ${of('absent').length} not in ${remote.where}, ` +
        `${of('rejected').length} rejected, ${cached} already cached${invalid ? `, ${invalid} invalid specs skipped` : ''}\n`,
    )
  }
  return of('rejected').length > 0 ? ExitCode.generationFailed : ExitCode.ok
}
