import { ExitCode, VidspecError, exitCodeFor } from '@vidspec/core'
import { didYouMean } from './args.js'
import { defaultIo, type Io } from './output.js'

type Command = (argv: string[], io: Io, signal: AbortSignal) => Promise<number>

interface CommandEntry {
  summary: string
  /** A command's module loads when it runs: `vidspec plan` never loads the code of `build` or `watch`. */
  load(): Promise<Command>
}

const commands: Record<string, CommandEntry> = {
  build: { summary: 'generate every new or changed spec into the cache', load: async () => (await import('./commands/build.js')).build },
  plan: { summary: 'show what a build would do (new / changed / cached / invalid)', load: async () => (await import('./commands/plan.js')).plan },
  status: { summary: 'summarize specs, the store and in-flight jobs', load: async () => (await import('./commands/status.js')).status },
  forget: { summary: 'remove one journaled or uncertain paid job, by key or spec', load: async () => (await import('./commands/forget.js')).forget },
  verify: { summary: 're-hash the store; remove corrupt clips', load: async () => (await import('./commands/verify.js')).verify },
  gc: { summary: 'remove clips no current spec uses', load: async () => (await import('./commands/gc.js')).gc },
  watch: { summary: 'keep clips up to date as files change', load: async () => (await import('./commands/watch.js')).watchCommand },
  push: { summary: 'upload local clips the remote cache (S3) lacks', load: async () => (await import('./commands/push.js')).push },
  pull: { summary: "download current specs' clips from the remote cache (S3)", load: async () => (await import('./commands/pull.js')).pull },
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length))
  return `Usage: vidspec <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Run "vidspec <command> --help" for a command's options.
The project is the nearest folder upward from here with a vidspec.config.* (up to the repository
root), or --root DIR.

Environment:
  TOGETHER_API_KEY   needed only to generate new clips; approved clips (vidspec.lock.json, the cache,
                     the remote cache) are used without it
  TOGETHER_BASE_URL  another API base URL (a proxy)
  CI=true            builds are --frozen (no paid generation), previews: 'error', plain output`
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
    const hint = didYouMean(name, Object.keys(commands))
    io.stderr.write(`vidspec: unknown command "${name}"${hint ? `; did you mean "${hint}"?` : ''}\n\n${usage()}\n`)
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
    const run = await command.load()
    const code = await run(rest, io, controller.signal)
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
