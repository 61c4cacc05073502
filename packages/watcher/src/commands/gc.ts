import { ExitCode, readLockfile } from '@vidspec/core'
import { commonOptions, intFlag, parse, sizeFlag } from '../args.js'
import { formatBytes, printJson, type Io } from '../output.js'
import { openProject } from '../project.js'
import { Reporter } from '../reporter.js'

export const gcHelp = `Usage: vidspec gc [options]

Removes stored clips that no current spec uses. Never removes a clip a current spec uses, a clip
vidspec.lock.json approves, the last build of a spec that fails to load right now, nor a paid job
still in the journal.

Options:
  --root DIR            project root (default: current directory)
  --config FILE         config file
  --dry-run             list what would be removed, remove nothing
  --keep-days N         only remove unused clips older than N days
  --max-size SIZE       only remove unused clips (oldest first) until the store is under SIZE (e.g. 2G)
  --json                print the report as JSON on stdout
  -h, --help            show this help`

export async function gc(argv: string[], io: Io): Promise<number> {
  const { values } = parse('gc', argv, {
    ...commonOptions,
    'dry-run': { type: 'boolean' },
    'keep-days': { type: 'string' },
    'max-size': { type: 'string' },
  })
  if (values.help) {
    io.stdout.write(`${gcHelp}\n`)
    return ExitCode.ok
  }
  const keepDays = intFlag('gc', 'keep-days', values['keep-days'], 0)
  const maxSizeBytes = sizeFlag('gc', 'max-size', values['max-size'])
  const project = await openProject(io, values, new Reporter(io, { quiet: true }))
  const keep = new Set<string>()
  for (const item of await project.loadAll()) {
    if (item.spec) keep.add(item.spec.key)
    // A spec that is broken right now still owns its last build: a typo must not cost a paid clip.
    const last = await project.store.readSpecState(project.specId(item.file))
    if (last && !item.spec) keep.add(last.key)
  }
  // Approved clips stay whatever the specs say now: a branch switch must not cost a paid clip.
  for (const clip of Object.values((await readLockfile(project.config.root)).specs)) keep.add(clip.key)
  const report = await project.store.gc({
    keep,
    dryRun: Boolean(values['dry-run']),
    ...(keepDays !== undefined ? { keepDays } : {}),
    ...(maxSizeBytes !== undefined ? { maxSizeBytes } : {}),
  })
  if (values.json) printJson(io, { dryRun: Boolean(values['dry-run']), ...report })
  else {
    const verb = values['dry-run'] ? 'would remove' : 'removed'
    const lines = [
      ...report.removedEntries.map((k: string) => `${verb} entry ${k}`),
      ...report.removedObjects.map((o: string) => `${verb} object ${o}`),
      `${verb} ${report.removedEntries.length} entries and ${report.removedObjects.length} clips (${formatBytes(report.freedBytes)}); kept ${report.kept}`,
    ]
    io.stdout.write(`${lines.join('\n')}\n`)
  }
  return ExitCode.ok
}
