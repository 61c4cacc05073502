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
      intervalMs: config.jobs.pollIntervalMs,
      maxIntervalMs: config.jobs.maxPollIntervalMs,
      jobTimeoutMs: config.jobs.jobTimeoutMs,
    },
    downloadIdleTimeoutMs: config.jobs.downloadIdleTimeoutMs,
    lockStaleMs: config.locks.staleMs,
    lockOtherHostStaleMs: config.locks.otherHostStaleMs,
  }
}
