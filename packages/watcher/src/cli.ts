import { ExitCode, VidspecError, exitCodeFor } from '@vidspec/core'
import { build, buildHelp } from './commands/build.js'
import { gc, gcHelp } from './commands/gc.js'
import { plan, planHelp } from './commands/plan.js'
import { pull, pullHelp } from './commands/pull.js'
import { push, pushHelp } from './commands/push.js'
import { status, statusHelp } from './commands/status.js'
import { verify, verifyHelp } from './commands/verify.js'
import { watchCommand, watchHelp } from './commands/watch.js'
import { defaultIo, type Io } from './output.js'

type Command = (argv: string[], io: Io, signal: AbortSignal) => Promise<number>

const commands: Record<string, { run: Command; help: string; summary: string }> = {
  build: { run: build, help: buildHelp, summary: 'generate every new or changed spec into the cache' },
  plan: { run: plan, help: planHelp, summary: 'show what a build would do (new / changed / cached / invalid)' },
  status: { run: status, help: statusHelp, summary: 'summarize specs, the store and in-flight jobs' },
  verify: { run: verify, help: verifyHelp, summary: 're-hash the store; remove corrupt clips' },
  gc: { run: gc, help: gcHelp, summary: 'remove clips no current spec uses' },
  watch: { run: watchCommand, help: watchHelp, summary: 'keep clips up to date as files change' },
  push: { run: push, help: pushHelp, summary: 'upload local clips the remote cache (S3) lacks' },
  pull: { run: pull, help: pullHelp, summary: "download current specs' clips from the remote cache (S3)" },
}

export function registerCommand(name: string, run: Command, help: string, summary: string): void {
  commands[name] = { run, help, summary }
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length))
  return `Usage: vidspec <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Run "vidspec <command> --help" for a command's options.
Environment: TOGETHER_API_KEY (use Together), TOGETHER_BASE_URL (proxy), CI=true (plain output).`
}

/**
 * The CLI boundary: every error becomes a message and an exit code here (0 ok, 1 a generation
 * failed, 2 bad spec/config/usage, 3 frozen miss). Ctrl-C cancels work but keeps the journal, so a
 * paid job is resumed by the next run.
 */
export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${usage()}\n`)
    return name === undefined ? ExitCode.badInput : ExitCode.ok
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write('0.1.0\n')
    return ExitCode.ok
  }
  const command = commands[name]
  if (!command) {
    io.stderr.write(`vidspec: unknown command "${name}"\n\n${usage()}\n`)
    return ExitCode.badInput
  }
  const controller = new AbortController()
  let interrupts = 0
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++
    if (interrupts > 1) process.exit(130)
    io.stderr.write(`\nvidspec: ${sig}: stopping; paid jobs stay in the journal and resume next time (again to force)\n`)
    controller.abort(new VidspecError('ABORTED', `interrupted by ${sig}`))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    const code = await command.run(rest, io, controller.signal)
    return controller.signal.aborted ? 130 : code
  } catch (err) {
    if (controller.signal.aborted) return 130
    io.stderr.write(`vidspec ${name}: ${err instanceof Error ? err.message : String(err)}\n`)
    if (!(err instanceof VidspecError) && err instanceof Error && err.stack && io.env.VIDSPEC_DEBUG) {
      io.stderr.write(`${err.stack}\n`)
    }
    return exitCodeFor(err)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
