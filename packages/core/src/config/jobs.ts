import type { VidspecConfigInput } from './types.js'

const JOB_SETTINGS = ['jobTimeoutMs', 'pollIntervalMs', 'maxPollIntervalMs', 'downloadIdleTimeoutMs'] as const
type JobSetting = (typeof JOB_SETTINGS)[number]

/**
 * The provider-neutral job settings: `jobs.*`, or their old names under `together.*` (said once per
 * name as deprecated). Overrides win over the file; within one source `jobs` wins. `from` says which
 * section a value came from, so a message names the field the user wrote.
 */
export function jobSettings(
  cfg: VidspecConfigInput,
  over: Partial<VidspecConfigInput>,
  onDeprecated: ((message: string) => void) | undefined,
): { values: Partial<Record<JobSetting, number>>; from: Partial<Record<JobSetting, 'jobs' | 'together'>> } {
  const values: Partial<Record<JobSetting, number>> = {}
  const from: Partial<Record<JobSetting, 'jobs' | 'together'>> = {}
  for (const name of JOB_SETTINGS) {
    for (const source of [cfg, over]) {
      const legacy = source.together?.[name]
      if (legacy !== undefined) {
        if (from[name] !== 'together') onDeprecated?.(`together.${name} is deprecated: it applies to every provider's jobs, so it moved to jobs.${name}`)
        values[name] = legacy
        from[name] = 'together'
      }
      const current = source.jobs?.[name]
      if (current !== undefined) {
        values[name] = current
        from[name] = 'jobs'
      }
    }
  }
  return { values, from }
}
