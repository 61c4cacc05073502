import { ExitCode } from '@vidspec/core'
import { commonOptions, parse } from '../args.js'
import { printJson, type Io } from '../output.js'
import { openProject } from '../project.js'
import { Reporter } from '../reporter.js'

export const verifyHelp = `Usage: vidspec verify [options]

Re-hashes every stored clip and checks every entry against its clip. Corrupt or missing clips are
removed together with the entries that point at them, so the next build regenerates them instead
of serving a bad file.

Options:
  --root DIR            project root (default: current directory)
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
  const project = await openProject(io, values, new Reporter(io, { quiet: true }))
  const repair = !values['check-only']
  const report = await project.store.verify({ repair })
  const problems = report.corrupt.length + report.missing.length
  if (values.json) printJson(io, { repaired: repair, ...report })
  else {
    const lines = [
      ...report.corrupt.map((c) => `corrupt  ${c.path}: ${c.reason}${c.key ? ` (key ${c.key.slice(0, 12)})` : ''}`),
      ...report.missing.map((m) => `missing  ${JSON.stringify(m)}`),
      `checked ${report.checked} objects: ${report.ok} ok, ${report.corrupt.length} corrupt, ${report.missing.length} missing${
        problems > 0 ? (repair ? '; removed, the next build regenerates them' : '; run without --check-only to repair') : ''
      }`,
    ]
    io.stdout.write(`${lines.join('\n')}\n`)
  }
  return problems > 0 ? ExitCode.generationFailed : ExitCode.ok
}
