import { basename } from 'node:path'
import { ExitCode, offlineProvider, type Entry, type Vidspec } from '@vidspec/core'
import { commonOptions, intFlag, parse, sizeFlag } from '../args.js'
import { formatBytes, printJson, type Io } from '../output.js'
import { openProject } from '../project.js'
import { Reporter } from '../reporter.js'

export const gcHelp = `Usage: vidspec gc [options]

Removes stored previews that no current spec uses. What it keeps never depends on the environment
(an API key set or not): every key a current spec has under every provider, every clip
vidspec.lock.json approves, the last build of every spec (also one that fails to load right now),
and every journaled or uncertain paid job.

Paid clips are never deleted by gc. A paid clip no spec needs stays unless --include-paid is given;
then it moves to .vidspec/trash/ (listed first by --dry-run), and --restore puts it back. Only
--empty-trash deletes for good. Renditions, posters and placeholders (made from clips, free to make
again) go first: with their clip, and under --max-size before any clip, oldest first.

Options:
  --root DIR            project root (default: the nearest folder upward with a vidspec.config.*)
  --config FILE         config file
  --dry-run             list what would be removed or trashed, change nothing
  --include-paid        also move paid clips no current spec, pin or job needs to the trash
  --restore             move everything in the trash back into the cache
  --empty-trash         delete the trash for good (with --dry-run: list it)
  --keep-days N         only remove unused clips older than N days
  --max-size SIZE       only remove unused clips (oldest first) until the store is under SIZE (e.g. 2G)
  --json                print the report as JSON on stdout
  -h, --help            show this help`

export async function gc(argv: string[], io: Io): Promise<number> {
  const { values } = parse('gc', argv, {
    ...commonOptions,
    'dry-run': { type: 'boolean' },
    'include-paid': { type: 'boolean' },
    restore: { type: 'boolean' },
    'empty-trash': { type: 'boolean' },
    'keep-days': { type: 'string' },
    'max-size': { type: 'string' },
  })
  if (values.help) {
    io.stdout.write(`${gcHelp}\n`)
    return ExitCode.ok
  }
  const keepDays = intFlag('gc', 'keep-days', values['keep-days'], 0)
  const maxSizeBytes = sizeFlag('gc', 'max-size', values['max-size'])
  const dryRun = Boolean(values['dry-run'])
  // Opened with the offline provider: gc needs no API key, and what it keeps does not depend on one.
  const reporter = new Reporter(io, { quiet: true, warnings: 'summary' })
  const project = await openProject(io, values, reporter, {}, { provider: offlineProvider() })
  if (!project.storeExists) {
    if (values.json) printJson(io, { dryRun, store: project.config.cacheDir, exists: false })
    else io.stdout.write(`no store at ${project.config.cacheDir}: nothing to collect\n`)
    return ExitCode.ok
  }
  if (values.restore) return restore(project, io, Boolean(values.json))
  if (values['empty-trash']) {
    const { files } = await project.emptyTrash({ dryRun })
    if (values.json) printJson(io, { dryRun, deleted: files })
    else io.stdout.write(`${dryRun ? 'would delete' : 'deleted'} ${files.length} files from the trash\n`)
    return ExitCode.ok
  }
  const entries = new Map((await project.clips()).map((e) => [e.key, e] as const))
  const report = await project.gc({
    dryRun,
    includePaid: Boolean(values['include-paid']),
    ...(keepDays !== undefined ? { keepDays } : {}),
    ...(maxSizeBytes !== undefined ? { maxSizeBytes } : {}),
  })
  if (values.json) {
    const { keep, ...rest } = report
    const keptKeys = Object.fromEntries(keep.why)
    if (!dryRun) printJson(io, { dryRun, ...rest, keptKeys })
    else {
      // A dry run removes nothing: its names say what it would do.
      const specs = (keys: string[]) => keys.map((k) => listed(k, entries.get(k)))
      const objects = (paths: string[]) => paths.map((o) => basename(o))
      printJson(io, {
        dryRun,
        wouldRemove: {
          entries: report.removedEntries,
          objects: objects(report.removedObjects),
          specs: specs(report.removedEntries),
          renditions: report.removedDerived,
        },
        wouldTrash: { entries: report.trashedEntries, objects: objects(report.trashedObjects), specs: specs(report.trashedEntries) },
        paidSpared: report.paidSpared,
        wouldFreeBytes: report.freedBytes,
        kept: report.kept,
        keptKeys,
      })
    }
    return ExitCode.ok
  }
  const would = (done: string, planned: string) => (dryRun ? planned : done)
  const describe = (key: string): string => {
    const e: Entry | undefined = entries.get(key)
    // What a person checks before saying yes: which spec, how old, how big (not bare keys and paths).
    if (!e) return `${key.slice(0, 12)} (an entry of no current spec)`
    const { age, size } = listed(key, e)
    return `${key.slice(0, 12)} (${e.spec}, ${age}, ${formatBytes(size ?? 0)}${e.jobId ? `, job ${e.jobId}` : ''})`
  }
  // Paid work first: that is what a person must look at before saying yes.
  const lines = [
    ...report.trashedEntries.map((k) => `${would('moved to trash', 'would move to trash')}  paid clip ${describe(k)}`),
    ...report.trashedObjects.map((o) => `${would('moved to trash', 'would move to trash')}  object ${basename(o)} (no entry names it)`),
    ...(report.paidSpared.length > 0
      ? [
          `kept ${report.paidSpared.length} paid clip(s) no current spec needs (pass --include-paid to move them to the trash):`,
          ...report.paidSpared.map((k) => `  ${describe(k)}`),
        ]
      : []),
    ...report.removedEntries.map((k) => `${would('removed', 'would remove')}  preview ${describe(k)}`),
    ...report.removedObjects.map((o) => `${would('removed', 'would remove')}  object ${basename(o)}`),
    ...(report.removedDerived.length > 0
      ? [`${would('removed', 'would remove')} ${report.removedDerived.length} renditions (posters, placeholders included: made again from their clip when needed)`]
      : []),
    `${would('removed', 'would remove')} ${report.removedEntries.length} previews and ${report.removedObjects.length} objects (${formatBytes(report.freedBytes)}); ` +
      `${would('moved', 'would move')} ${report.trashedEntries.length} paid clips and ${report.trashedObjects.length} objects to the trash; kept ${report.kept}` +
      (report.trashedEntries.length + report.trashedObjects.length > 0 && !dryRun ? ' (vidspec gc --restore puts them back)' : ''),
  ]
  io.stdout.write(`${lines.join('\n')}\n`)
  const warned = reporter.warningSummary()
  if (warned) io.stderr.write(`vidspec gc: ${warned}\n`)
  return ExitCode.ok
}

interface Listed {
  key: string
  spec?: string | undefined
  kind?: string | undefined
  age?: string | undefined
  size?: number | undefined
}

function listed(key: string, entry: Entry | undefined): Listed {
  if (!entry) return { key }
  const days = Math.floor((Date.now() - Date.parse(entry.createdAt)) / 86_400_000)
  const age = Number.isFinite(days) ? (days < 1 ? 'made today' : `${days} day${days === 1 ? '' : 's'} old`) : 'of unknown age'
  return { key, spec: entry.spec, kind: entry.preview ? 'offline preview' : `paid ${entry.provider} clip`, age, size: entry.size }
}

async function restore(project: Vidspec, io: Io, json: boolean): Promise<number> {
  const report = await project.restoreTrash()
  if (json) printJson(io, report)
  else {
    const lines = [
      ...report.entries.map((k) => `restored  ${k}`),
      ...report.skipped.map((k) => `left in trash  ${k} (the key has a newer entry)`),
      `restored ${report.entries.length} entries and ${report.objects.length} objects`,
    ]
    io.stdout.write(`${lines.join('\n')}\n`)
  }
  return ExitCode.ok
}
