import { ExitCode, shownEndpoint } from '@vidspec/core'
import { commonOptions, parse, providerFlag } from '../args.js'
import { formatBytes, printJson, type Io } from '../output.js'
import { noSpecsMessage, openProject } from '../project.js'
import { Reporter } from '../reporter.js'

export const statusHelp = `Usage: vidspec status [options]

Summarizes the project and its store: specs by state, stored clips and their size, previews,
paid jobs in the journal (the next build resumes them), creates whose answer was lost (uncertain:
a paid job may exist without its id; \`vidspec forget <key|spec>\` removes one), and how many spec
warnings there are (vidspec plan shows them). Reads only: it never creates a store.

Options:
  --root DIR            project root (default: the nearest folder upward with a vidspec.config.*)
  --config FILE         config file
  --provider NAME       together | offline: which provider's keys to check the specs against
                        (default: the project's; see vidspec build --help)
  --json                print the status as JSON on stdout
  -h, --help            show this help`

export async function status(argv: string[], io: Io, signal?: AbortSignal): Promise<number> {
  const { values } = parse('status', argv, { ...commonOptions, provider: { type: 'string' } })
  if (values.help) {
    io.stdout.write(`${statusHelp}\n`)
    return ExitCode.ok
  }
  const provider = providerFlag('status', values.provider)
  const reporter = new Reporter(io, { quiet: true, warnings: 'summary' })
  const project = await openProject(io, values, reporter, provider ? { provider } : {})
  const [items, { entries, jobs: journals, uncertain, derived }] = await Promise.all([project.plan(undefined, signal ? { signal } : {}), project.status()])
  if (items.length === 0 && !values.json) io.stderr.write(`vidspec status: ${noSpecsMessage(project)}\n`)
  const objects = new Map(entries.map((e) => [e.digest, e.size]))
  const bytes = [...objects.values()].reduce((a, b) => a + b, 0)
  const specs = { new: 0, changed: 0, cached: 0, invalid: 0 }
  for (const i of items) specs[i.status]++
  const result = {
    root: project.config.root,
    cacheDir: project.config.cacheDir,
    provider: project.provider.id,
    remote: project.config.remote
      ? {
          mode: project.config.remote.mode,
          bucket: project.config.remote.s3.bucket,
          prefix: project.config.remote.s3.prefix,
          endpoint: shownEndpoint(project.config.remote.s3.endpoint),
        }
      : undefined,
    specs,
    store: { entries: entries.length, objects: objects.size, bytes, previews: entries.filter((e) => e.preview).length },
    // Made from the clips above with ffmpeg: gc removes them first, and they are made again when needed.
    renditions: { count: derived.length, bytes: [...new Map(derived.map((d) => [d.digest, d.size])).values()].reduce((a, b) => a + b, 0) },
    inFlight: journals.map((j) => ({
      spec: j.spec,
      key: j.key,
      jobId: j.jobId,
      since: j.createdAt,
      baseURL: j.origin?.baseURL,
      account: j.origin?.account,
    })),
    uncertain: uncertain.map((u) => ({ spec: u.spec, key: u.key, at: u.at, reason: u.reason })),
  }
  if (values.json) {
    printJson(io, result)
    return ExitCode.ok
  }
  const warned = reporter.warningSummary()
  io.stdout.write(
    [
      `project   ${result.root}`,
      project.storeExists
        ? `store     ${result.cacheDir}: ${entries.length} entries, ${objects.size} clips, ${formatBytes(bytes)} (${result.store.previews} previews)`
        : `store     ${result.cacheDir}: none yet (build creates it)`,
      ...(derived.length > 0 ? [`renditions ${derived.length} (${formatBytes(result.renditions.bytes)}, made from the clips; gc removes them first)`] : []),
      `provider  ${result.provider}`,
      `remote    ${result.remote ? `s3://${result.remote.bucket}/${result.remote.prefix} (${result.remote.mode}${result.remote.endpoint ? `, ${result.remote.endpoint}` : ''})` : 'none'}`,
      `specs     ${specs.cached} cached, ${specs.new} new, ${specs.changed} changed, ${specs.invalid} invalid`,
      ...(warned ? [`warnings  ${warned}`] : []),
      ...result.inFlight.map(
        (j) =>
          `journaled ${j.spec}: job ${j.jobId} since ${j.since}${j.baseURL ? ` at ${j.baseURL} (${j.account})` : ''}; the next build resumes it (key ${j.key})`,
      ),
      ...result.uncertain.map(
        (u) =>
          `uncertain ${u.spec}: a create at ${u.at} lost its answer (${u.reason}); check the provider's dashboard, then build --retry-uncertain (key ${u.key})`,
      ),
    ].join('\n') + '\n',
  )
  return ExitCode.ok
}
