import { ExitCode, VidspecError, type SharedCache, type Vidspec } from '@vidspec/core'
import { commonOptions, parse } from '../args.js'
import { printJson, type Io } from '../output.js'
import { openProject } from '../project.js'
import { Reporter } from '../reporter.js'

export const pushHelp = `Usage: vidspec push [options]

Uploads the clips in the local cache that the remote cache (remote.s3 in vidspec.config.ts) does not
have yet: object first, entry last. Each local clip is re-hashed first, so a corrupt file never
reaches the shared cache. Previews stay local. Credentials come from the AWS environment only.

Options:
  --root DIR            project root (default: the nearest folder upward with a vidspec.config.*)
  --config FILE         config file
  --dry-run             list what would be uploaded, upload nothing
  --json                print the result as JSON on stdout
  -h, --help            show this help

Exit codes: 0 ok, 1 an upload failed or the remote could not be reached, 2 no writable remote configured.`

export async function push(argv: string[], io: Io, signal?: AbortSignal): Promise<number> {
  const { values } = parse('push', argv, { ...commonOptions, 'dry-run': { type: 'boolean' } })
  if (values.help) {
    io.stdout.write(`${pushHelp}\n`)
    return ExitCode.ok
  }
  const project = await openProject(io, values, new Reporter(io, { quiet: true }))
  const remote = requireRemote(project, 'push')
  if (remote.mode !== 'read-write') {
    throw new VidspecError(
      'USAGE',
      'vidspec push: the remote cache is read-only here (remote.mode or VIDSPEC_REMOTE_MODE); nothing would be written',
    )
  }
  const dryRun = Boolean(values['dry-run'])
  const { pushed, present, failed } = await project.push({ dryRun, ...(signal ? { signal } : {}) })
  if (values.json) {
    printJson(io, {
      remote: remote.where,
      dryRun,
      pushed: pushed.map((e) => ({ key: e.key, spec: e.spec, object: `${e.digest}.${e.ext}`, size: e.size })),
      present,
      failed,
    })
  } else {
    for (const e of pushed) io.stdout.write(`${dryRun ? 'would push' : 'pushed'}  ${e.spec}  ${e.key.slice(0, 12)}\n`)
    for (const f of failed) io.stdout.write(`failed  ${f.key.slice(0, 12)}: ${f.error}\n`)
    io.stderr.write(
      `vidspec: ${pushed.length} ${dryRun ? 'to push' : 'pushed'}, ${present} already in ${remote.where}, ${failed.length} failed\n`,
    )
  }
  return failed.length > 0 ? ExitCode.generationFailed : ExitCode.ok
}

export function requireRemote(project: Vidspec, command: string): SharedCache {
  const shared = project.sharedCache
  if (shared) return shared
  throw new VidspecError(
    'CONFIG_INVALID',
    `vidspec ${command}: no remote cache is in use: configure remote: { s3: { bucket } } in vidspec.config.ts (and check VIDSPEC_REMOTE_MODE is not "off")`,
  )
}
