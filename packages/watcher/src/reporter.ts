import { ProgressLines, formatWarningGroup, warningSummary, type Logger, type VidspecEvent, type WarningGroup } from '@vidspec/core'
import { formatMs, isLive, type Io } from './output.js'

type Row = { state: string; detail: string; since: number }

/** States a spec is in while work on it goes on; every other state is final. */
const LIVE_STATES = new Set(['queued', 'generating', 'waiting'])

/**
 * Shows what a build or watch is doing: on a terminal, a live area at the bottom with one row per
 * spec still being worked on, and above it permanent lines, one per finished spec (cached, done,
 * failed...) and per message, printed once and never redrawn, so scrolling back shows the truth.
 * The live area never holds more rows than fit the screen nor a row wider than it (a wrapped row
 * would make the redraw erase a permanent line). In CI and pipes, one plain line per event, but for
 * a job's progress only a change of status or one line every 10 s (see ProgressLines).
 */
export class Reporter implements Logger {
  readonly #io: Io
  readonly #live: boolean
  readonly #rows = new Map<string, Row>()
  #drawn = 0
  #timer: NodeJS.Timeout | undefined
  #quiet: boolean
  #closed = false
  readonly #warnings: 'show' | 'summary'
  readonly #groups: WarningGroup[] = []
  readonly #progress = new ProgressLines()

  /**
   * `warnings: 'summary'` (status, gc) keeps spec warnings for one line at the end
   * (`summary()`); build, plan and watch show each distinct warning once, with its specs.
   */
  constructor(io: Io, opts: { quiet?: boolean; warnings?: 'show' | 'summary' } = {}) {
    this.#io = io
    this.#live = isLive(io)
    this.#quiet = opts.quiet ?? false
    this.#warnings = opts.warnings ?? 'show'
  }

  specWarnings(groups: WarningGroup[]): void {
    if (this.#warnings === 'summary') this.#groups.push(...groups)
    else for (const group of groups) this.warn(formatWarningGroup(group))
  }

  /** The one line about the spec warnings kept in summary mode (undefined when there were none). */
  warningSummary(): string | undefined {
    return warningSummary(this.#groups)
  }

  debug(message: string): void {
    if (this.#io.env.VIDSPEC_DEBUG) this.#line(`debug ${message}`)
  }
  /** `always` prints even in quiet mode (watch decisions are the point of watch's output). */
  info(message: string, always = false): void {
    if (always || !this.#quiet) this.#line(message)
  }
  warn(message: string): void {
    this.#line(`warning: ${message}`)
  }
  error(message: string): void {
    this.#line(`error: ${message}`)
  }

  event(ev: VidspecEvent): void {
    // Progress not due for a line is dropped before anything is formatted: a job reports each poll.
    if (!this.#live && ev.type === 'job:progress' && !this.#progress.due(ev.spec, ev.status)) return
    const text = describe(ev)
    const state = stateOf(ev)
    if (!this.#live) {
      if (state && !LIVE_STATES.has(state)) this.#progress.forget(ev.spec)
      if (!this.#quiet || ev.type === 'spec:failed' || ev.type === 'spec:invalid') this.#line(`${pad(ev.type)} ${ev.spec} ${text}`.trimEnd())
      return
    }
    if (!state) return
    if (LIVE_STATES.has(state)) {
      const row = this.#rows.get(ev.spec)
      this.#rows.set(ev.spec, { state, detail: text, since: row && row.state === state ? row.since : Date.now() })
      this.#schedule()
      return
    }
    // Final: the spec's row settles into a permanent line, said once.
    const row = this.#rows.get(ev.spec)
    this.#rows.delete(ev.spec)
    const took = row && state !== 'cached' ? ` after ${formatMs(Date.now() - row.since)}` : ''
    // Quiet (watch): its decision lines already say cached / done; failures are said here, as in CI.
    if (this.#quiet && state !== 'failed' && state !== 'invalid') {
      this.#redraw()
      return
    }
    this.#permanent(`${pad(state, 11)} ${ev.spec} ${text}${state === 'done' ? '' : took}`.trimEnd())
  }

  /** A spec's work ended (watch says so by its decisions): its live row goes. */
  settle(spec: string): void {
    if (this.#rows.delete(spec) && this.#live) this.#redraw()
  }

  /** Stops redrawing; rows still live (an interrupted run) stay on screen as permanent lines. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    if (!this.#live || this.#closed) return
    const left = [...this.#rows].map(([spec, row]) => this.#fit(`${pad(row.state, 11)} ${spec} ${row.detail}`.trimEnd()))
    this.#closed = true
    this.#rows.clear()
    this.#render(left)
  }

  #line(text: string): void {
    if (this.#live) this.#permanent(text)
    else this.#io.stderr.write(`${text}\n`)
  }

  #permanent(text: string): void {
    this.#render(text.split('\n'))
  }

  #schedule(): void {
    this.#redraw()
    this.#timer ??= setInterval(() => this.#redraw(), 500).unref()
  }

  #redraw(): void {
    this.#render([])
  }

  /**
   * Writes `permanent` lines over the live area, then the live rows below them, in place: each line
   * ends with erase-to-end-of-line and leftover rows are blanked one by one. Never an erase of the
   * whole display: some terminals (tmux) push a cleared screen into the scrollback, which would keep
   * every redraw.
   */
  #render(permanent: string[]): void {
    const rows = this.#closed ? [] : this.#liveRows()
    let out = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : ''
    let written = 0
    const columns = this.#io.stderr.columns ?? 80
    for (const line of permanent) {
      out += `\r${line}\x1b[K\n`
      written += Math.max(1, Math.ceil(line.length / columns))
    }
    for (const row of rows) out += `\r${row}\x1b[K\n`
    written += rows.length
    const extra = this.#drawn - written
    if (extra > 0) out += `${'\r\x1b[K\n'.repeat(extra)}\x1b[${extra}A`
    this.#drawn = rows.length
    if (out) this.#io.stderr.write(out)
  }

  /**
   * One screen line at most: the cursor-up count must equal the lines really drawn. ASCII only, so
   * no terminal counts a cell more than we do.
   */
  #fit(line: string): string {
    const columns = this.#io.stderr.columns ?? 80
    return line.length < columns ? line : `${line.slice(0, Math.max(1, columns - 4))}...`
  }

  #liveRows(): string[] {
    if (this.#rows.size === 0) return []
    const now = Date.now()
    const all = [...this.#rows.entries()].map(([spec, row]) => {
      const elapsed = ` ${formatMs(now - row.since)}`
      return this.#fit(`${pad(row.state, 11)} ${spec}${elapsed}${row.state === 'generating' ? '' : ` ${row.detail}`}`.trimEnd())
    })
    // Never taller than the screen: a cursor-up cannot reach lines scrolled off the top.
    const room = Math.max(1, (this.#io.stderr.rows ?? 24) - 2)
    return all.length <= room ? all : [...all.slice(0, room - 1), `... and ${all.length - room + 1} more`]
  }

}

function pad(text: string, width = 16): string {
  return text.padEnd(width)
}

function stateOf(ev: VidspecEvent): string | undefined {
  switch (ev.type) {
    case 'spec:cached':
      return 'cached'
    case 'spec:queued':
      return 'queued'
    case 'spec:generating':
    case 'job:created':
    case 'job:resumed':
    case 'job:progress':
    case 'job:retry':
      return 'generating'
    case 'job:waiting':
      return 'waiting'
    case 'spec:done':
      return 'done'
    case 'spec:failed':
      return 'failed'
    case 'spec:invalid':
      return 'invalid'
    case 'spec:cancelled':
      return 'cancelled'
  }
}

function describe(ev: VidspecEvent): string {
  switch (ev.type) {
    case 'spec:cached':
      return `key ${ev.key.slice(0, 12)}`
    case 'spec:queued':
      return `key ${ev.key.slice(0, 12)}`
    case 'spec:generating':
      return `via ${ev.provider}`
    case 'job:created':
      return `job ${ev.jobId}`
    case 'job:resumed':
      return `job ${ev.jobId} (from the journal: not paying again)`
    case 'job:waiting':
      return ev.reason === 'lock' ? 'another process is generating this key; waiting for it' : 'same key as another spec'
    case 'job:progress':
      return `${ev.status} ${formatMs(ev.elapsedMs)}`
    case 'job:retry':
      return `retry ${ev.attempt} in ${formatMs(ev.delayMs)}: ${ev.reason}`
    case 'spec:done':
      return `${formatMs(ev.durationMs)}${ev.cost !== undefined ? ` $${ev.cost}` : ''}`
    case 'spec:failed':
    case 'spec:invalid':
      return ev.error.message
    case 'spec:cancelled':
      return 'cancelled; the journal keeps any paid job for the next run'
  }
}
