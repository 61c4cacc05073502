import type { Logger, VidspecEvent } from '@vidspec/core'
import { formatMs, isLive, type Io } from './output.js'

type Row = { state: string; detail: string; since: number }

/**
 * Shows what a build or watch is doing: a live table per spec on a terminal, one plain line per
 * event in CI and pipes (so logs stay greppable and never fill with redraws).
 */
export class Reporter implements Logger {
  readonly #io: Io
  readonly #live: boolean
  readonly #rows = new Map<string, Row>()
  #drawn = 0
  #timer: NodeJS.Timeout | undefined
  #quiet: boolean

  constructor(io: Io, opts: { quiet?: boolean } = {}) {
    this.#io = io
    this.#live = isLive(io)
    this.#quiet = opts.quiet ?? false
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
    const text = describe(ev)
    if (this.#live) {
      const row = this.#rows.get(ev.spec)
      const state = stateOf(ev)
      if (state) this.#rows.set(ev.spec, { state, detail: text, since: row && row.state === state ? row.since : Date.now() })
      if (ev.type === 'spec:failed' || ev.type === 'spec:invalid') this.#permanent(`${ev.spec}: ${text}`)
      this.#schedule()
    } else if (!this.#quiet || ev.type === 'spec:failed' || ev.type === 'spec:invalid') {
      this.#line(`${pad(ev.type)} ${ev.spec} ${text}`.trimEnd())
    }
  }

  /** Stops redrawing and leaves the final table on screen. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    if (this.#live) this.#draw()
  }

  #line(text: string): void {
    if (this.#live) this.#permanent(text)
    else this.#io.stderr.write(`${text}\n`)
  }

  #permanent(text: string): void {
    this.#clear()
    this.#io.stderr.write(`${text}\n`)
    this.#draw()
  }

  #schedule(): void {
    this.#draw()
    this.#timer ??= setInterval(() => this.#draw(), 500).unref()
  }

  #clear(): void {
    if (this.#drawn > 0) this.#io.stderr.write(`\x1b[${this.#drawn}A\x1b[J`)
    this.#drawn = 0
  }

  #draw(): void {
    this.#clear()
    const now = Date.now()
    const lines = [...this.#rows.entries()].map(([spec, row]) => {
      const elapsed = row.state === 'generating' || row.state === 'queued' ? ` ${formatMs(now - row.since)}` : ''
      return `${pad(row.state, 11)} ${spec}${elapsed}${row.state === 'generating' ? '' : ` ${row.detail}`}`.trimEnd()
    })
    if (lines.length > 0) this.#io.stderr.write(`${lines.join('\n')}\n`)
    this.#drawn = lines.length
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
