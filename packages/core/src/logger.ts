import { runtimeFlags } from './flags.js'
import type { WarningGroup } from './warnings.js'

/** What core reports while it works. Adapters (CLI, Vite) decide how to show it. */
export type VidspecEvent =
  | { type: 'spec:invalid'; spec: string; error: Error }
  | { type: 'spec:cached'; spec: string; key: string }
  | { type: 'spec:queued'; spec: string; key: string }
  | { type: 'spec:generating'; spec: string; key: string; provider: string }
  | { type: 'job:created'; spec: string; key: string; jobId: string }
  | { type: 'job:resumed'; spec: string; key: string; jobId: string }
  | { type: 'job:waiting'; spec: string; key: string; reason: 'lock' | 'in-process' }
  | { type: 'job:progress'; spec: string; key: string; status: string; elapsedMs: number }
  | { type: 'job:retry'; spec: string; key: string; attempt: number; delayMs: number; reason: string }
  | { type: 'spec:done'; spec: string; key: string; generated: boolean; durationMs: number; cost?: number | undefined }
  | { type: 'spec:failed'; spec: string; key: string; error: Error }
  | { type: 'spec:cancelled'; spec: string; key: string }

export interface Logger {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
  event?(event: VidspecEvent): void
  /**
   * The spec warnings of one load, each distinct warning once with the specs it concerns. Without
   * it they go to `warn`, one line per group.
   */
  specWarnings?(groups: WarningGroup[]): void
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
}

/** A logger that writes plain lines to stderr; `debug` only with VIDSPEC_DEBUG set in `env`. */
export function consoleLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  const { debug } = runtimeFlags(env)
  return {
    debug: (m) => {
      if (debug) process.stderr.write(`[vidspec] ${m}\n`)
    },
    info: (m) => process.stderr.write(`[vidspec] ${m}\n`),
    warn: (m) => process.stderr.write(`[vidspec] warning: ${m}\n`),
    error: (m) => process.stderr.write(`[vidspec] error: ${m}\n`),
  }
}
