import type { ResolvedConfig } from '../config/resolve.js'
import type { RunnerOptions } from './runner.js'

/** What a runner takes from the project's config: the same for the project's runner and the preview one. */
export function runnerSettings(
  config: ResolvedConfig,
): Pick<RunnerOptions, 'concurrency' | 'retry' | 'poll' | 'downloadIdleTimeoutMs' | 'lockStaleMs' | 'lockOtherHostStaleMs'> {
  return {
    concurrency: config.concurrency,
    retry: config.retry,
    poll: {
      intervalMs: config.together.pollIntervalMs,
      maxIntervalMs: config.together.maxPollIntervalMs,
      jobTimeoutMs: config.together.jobTimeoutMs,
    },
    downloadIdleTimeoutMs: config.together.downloadIdleTimeoutMs,
    lockStaleMs: config.locks.staleMs,
    lockOtherHostStaleMs: config.locks.otherHostStaleMs,
  }
}
