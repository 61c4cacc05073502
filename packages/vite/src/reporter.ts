import { ProgressLines, type Logger as CoreLogger, type VidspecEvent } from '@vidspec/core'
import type { Logger as ViteLogger } from 'vite'

/**
 * Core's logger for the plugin: plain messages go to Vite's logger, and job events become short
 * progress lines in the terminal. Until Vite's logger exists (the project is opened in the `config`
 * hook) messages go to stderr.
 */
export class Reporter implements CoreLogger {
  #vite: ViteLogger | undefined
  #timestamps = true
  readonly #progress = new ProgressLines()
  readonly #startedAt = new Map<string, number>()
  #generated = 0
  #started = 0

  /** VIDSPEC_DEBUG of the environment the project was opened with (`config.flags.debug`). */
  verbose = false

  /**
   * `timestamps`: as Vite's own lines have them, in the dev server only. A build's lines have none, and
   * the first timestamp costs a build ~20 ms (the first toLocaleTimeString loads the locale data).
   */
  attach(vite: ViteLogger, opts: { timestamps: boolean }): void {
    this.#vite = vite
    this.#timestamps = opts.timestamps
  }

  debug(message: string): void {
    if (this.verbose) this.#line('info', message)
  }

  info(message: string): void {
    this.#line('info', message)
  }

  warn(message: string): void {
    this.#line('warn', message)
  }

  error(message: string): void {
    this.#line('error', message)
  }

  event(e: VidspecEvent): void {
    switch (e.type) {
      case 'spec:generating':
        this.#started++
        this.#startedAt.set(e.key, Date.now())
        this.info(`generating ${e.spec} with ${e.provider} (${this.#started} started)`)
        break
      case 'job:created':
        this.info(`${e.spec}: job ${e.jobId} created`)
        break
      case 'job:resumed':
        this.info(`${e.spec}: resuming job ${e.jobId} from the journal (already paid for)`)
        break
      case 'job:waiting':
        if (e.reason === 'lock') this.info(`${e.spec}: another process is generating it; waiting for its result`)
        break
      case 'job:progress':
        if (this.#progress.due(e.spec, e.status)) this.info(`${e.spec}: ${e.status.replace('_', ' ')} (${Math.round(e.elapsedMs / 1000)} s)`)
        break
      case 'job:retry':
        this.warn(`${e.spec}: retry ${e.attempt} in ${Math.round(e.delayMs / 100) / 10} s: ${e.reason}`)
        break
      case 'spec:failed':
        this.#progress.forget(e.spec)
        this.error(`${e.spec}: ${e.error.message}`)
        break
      case 'spec:invalid':
        this.error(e.error.message)
        break
      default:
        break
    }
  }

  /** A clip of `spec` landed in the store; `generated` false when it was made by someone else. */
  done(spec: string, key: string, generated: boolean): void {
    const started = this.#startedAt.get(key)
    // Specs sharing a key share one generation: it is reported (and counted) for the first only.
    if (!generated || started === undefined) return
    this.#generated++
    this.#startedAt.delete(key)
    this.#progress.forget(spec)
    this.info(`${spec} ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${this.#generated} of ${this.#started} generated)`)
  }

  #line(level: 'info' | 'warn' | 'error', message: string): void {
    const text = `[vidspec] ${message}`
    if (this.#vite) this.#vite[level](text, { timestamp: this.#timestamps })
    else process.stderr.write(`${text}\n`)
  }
}
