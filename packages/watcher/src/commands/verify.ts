import { ExitCode } from '@vidspec/core'
import { commonOptions, parse } from '../args.js'
import { printJson, type Io } from '../output.js'
import { openProject } from '../project.js'
import { Reporter } from '../reporter.js'

export const verifyHelp = `Usage: vidspec verify [options]

Re-hashes every stored clip, checks every entry against its clip, and checks each clip is as long
as the seconds its request asked for. Corrupt or short clips are moved to .vidspec/quarantine/
(never deleted: one may be the only copy of a paid clip) and their entries dropped; a paid clip's job
goes back into the journal, so the next build downloads it again without paying again.
Renditions (made from clips with ffmpeg) are re-hashed and probed again against their checks (codec,
size, duration, audio, MP4 fast start); a bad one is dropped and made again from its clip.

Options:
  --root DIR            project root (default: the nearest folder upward with a vidspec.config.*)
  --config FILE         config file
  --check-only          report problems, change nothing
  --json                print the report as JSON on stdout
  -h, --help            show this help

Exit codes: 0 the store is sound, 1 problems were found (and repaired unless --check-only).`

export async function verify(argv: string[], io: Io): Promise<number> {
  const { values } = parse('verify', argv, { ...commonOptions, 'check-only': { type: 'boolean' } })
  if (values.help) {
    io.stdout.write(`${verifyHelp}\n`)
    return ExitCode.ok
  }
  const reporter = new Reporter(io, { quiet: true, warnings: 'summary' })
  const project = await openProject(io, values, reporter)
  const repair = !values['check-only']
  if (!project.storeExists) {
    if (values.json) printJson(io, { store: project.config.cacheDir, exists: false, checked: 0, ok: 0, corrupt: [], missing: [] })
    else io.stdout.write(`no store at ${project.config.cacheDir}: nothing to verify\n`)
    return ExitCode.ok
  }
  const report = await project.verify({ repair })
  const problems = report.corrupt.length + report.missing.length
  // `repaired` says what happened: true only when problems were found and fixed.
  if (values.json) printJson(io, { checkOnly: !repair, repaired: repair && problems > 0, ...report })
  else {
    const lines = [
      ...report.corrupt.map((c) => `corrupt  ${c.path}: ${c.reason}${c.key ? ` (key ${c.key.slice(0, 12)})` : ''}`),
      ...report.missing.map((m) => `missing  ${JSON.stringify(m)}`),
      `checked ${report.checked} objects: ${report.ok} ok, ${report.corrupt.length} corrupt, ${report.missing.length} missing${
        problems > 0
          ? repair
            ? `; ${report.quarantined.length} moved to quarantine; the next build downloads paid clips again from their jobs (no new charge)`
            : '; run without --check-only to repair'
          : ''
      }`,
      ...(report.renditions ? [`probed ${report.renditions.checked} renditions again: ${report.renditions.ok} pass their checks (a bad one is made again from its clip)`] : []),
    ]
    io.stdout.write(`${lines.join('\n')}\n`)
    // One line about the specs' warnings, like status and gc (the memo makes this load cheap).
    await project.loadAll()
    const warned = reporter.warningSummary()
    if (warned) io.stderr.write(`vidspec verify: ${warned}\n`)
  }
  return problems > 0 ? ExitCode.generationFailed : ExitCode.ok
}
