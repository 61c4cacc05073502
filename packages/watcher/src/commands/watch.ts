import { ExitCode, ProjectWatcher, type WatchDecision } from '@vidspec/core'
import { commonOptions, intFlag, parse, providerFlag } from '../args.js'
import type { Io } from '../output.js'
import { openProject } from '../project.js'
import { Reporter } from '../reporter.js'

export const watchHelp = `Usage: vidspec watch [options]

Keeps every spec's clip up to date while you work: an edit of a spec, or of any module or media file
it uses, re-evaluates exactly the specs it affects, and only a changed key starts a generation.
A spec edited again while its generation is still queued drops the queued one; a generation already
started (and paid for) is finished and kept, also when its spec is deleted or the config changes.
A config edit reloads the project in place. Ctrl-C stops; paid jobs stay in the journal and resume
on the next run. A reader of its output that goes away (vidspec watch 2>&1 | head) stops it the same
way, at the next line it writes.

Options:
  --root DIR            project root (default: the nearest folder upward with a vidspec.config.*)
  --config FILE         config file
  --provider NAME       together | offline
  --concurrency N       generations in flight at once (default: 4)
  --debounce MS         quiet time after the last file event before acting (default: 100)
  --settle MS           quiet time between a key becoming wanted and its paid create, so a burst of
                        edits pays only for where it settles (default: 0)
  -h, --help            show this help

Output: one line per decision (added, unchanged, cached, queued, superseded, invalid, removed, done,
failed) with the time it took after the debounce; on a terminal, a live row per job in progress that
settles into its decision line when the job ends. Each distinct spec warning is said once.
watch is not a build: --frozen and CI=true do not stop it. It creates the store if there is none.`

export async function watchCommand(argv: string[], io: Io, signal: AbortSignal): Promise<number> {
  const { values } = parse('watch', argv, {
    ...commonOptions,
    provider: { type: 'string' },
    concurrency: { type: 'string' },
    debounce: { type: 'string' },
    settle: { type: 'string' },
  })
  if (values.help) {
    io.stdout.write(`${watchHelp}\n`)
    return ExitCode.ok
  }
  const provider = providerFlag('watch', values.provider)
  const concurrency = intFlag('watch', 'concurrency', values.concurrency, 1)
  const debounceMs = intFlag('watch', 'debounce', values.debounce, 0) ?? 100
  const settleMs = intFlag('watch', 'settle', values.settle, 0) ?? 0
  const reporter = new Reporter(io, { quiet: true })
  const open = () =>
    openProject(io, values, reporter, {
      ...(provider ? { provider } : {}),
      ...(concurrency ? { concurrency } : {}),
    })
  const project = await open()
  await project.ensureStore()
  const watcher = new ProjectWatcher(project, {
    debounceMs,
    settleMs,
    reopen: open,
    onDecision: (d) => {
      // A finished job's live row settles into its decision line: said once, never redrawn.
      if (d.kind !== 'queued' && d.kind !== 'added') reporter.settle(d.spec)
      reporter.info(decisionLine(d), true)
    },
    onNotice: (m) => reporter.warn(m),
  })
  await watcher.start()
  reporter.info(`watching ${project.config.root} (provider ${project.provider.id}, debounce ${debounceMs} ms); Ctrl-C to stop`, true)
  // Until Ctrl-C, or until nobody reads its lines (`vidspec watch 2>&1 | head`): that shows at the
  // first line written after the reader left. Either way, paid jobs in flight stay in the journal.
  await new Promise<void>((resolve) => {
    for (const stop of [signal, io.readerGone]) {
      if (stop?.aborted) resolve()
      else stop?.addEventListener('abort', () => resolve(), { once: true })
    }
  })
  await watcher.close()
  reporter.close()
  io.stderr.write('vidspec watch: stopped; paid jobs in flight stay in the journal\n')
  return ExitCode.ok
}

export function decisionLine(d: WatchDecision): string {
  const key = d.key ? ` key ${d.key.slice(0, 12)}` : ''
  const latency = d.latencyMs !== undefined ? ` (${d.latencyMs.toFixed(1)} ms)` : ''
  const error = d.error ? `: ${d.error.message}` : ''
  return `${d.kind.padEnd(10)} ${d.spec}${key}${latency}${error}`
}
