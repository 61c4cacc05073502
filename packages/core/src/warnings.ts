/** One distinct warning and every spec it concerns. */
export interface WarningGroup {
  /** The warning without the spec's name, e.g. `width/height: 640x360 is not a documented size of ...`. */
  message: string
  /** Spec ids, sorted. */
  specs: string[]
}

/**
 * Groups spec warnings (`<spec id>: <message>`, as validation words them) by message, so a run says
 * each distinct warning once with the specs it concerns, instead of once per spec.
 */
export function groupWarnings(warnings: Iterable<{ spec: string; warning: string }>): WarningGroup[] {
  const groups = new Map<string, Set<string>>()
  for (const { spec, warning } of warnings) {
    const message = warning.startsWith(`${spec}: `) ? warning.slice(spec.length + 2) : warning
    let specs = groups.get(message)
    if (!specs) groups.set(message, (specs = new Set()))
    specs.add(spec)
  }
  return [...groups].map(([message, specs]) => ({ message, specs: [...specs].sort() }))
}

/** `a.video.ts: msg`, or `3 specs (a.video.ts, b.video.ts, c.video.ts): msg` (at most 5 named). */
export function formatWarningGroup(group: WarningGroup): string {
  const [only] = group.specs
  if (group.specs.length === 1 && only !== undefined) return `${only}: ${group.message}`
  const named = group.specs.slice(0, 5).join(', ')
  const more = group.specs.length > 5 ? `, +${group.specs.length - 5} more` : ''
  return `${group.specs.length} specs (${named}${more}): ${group.message}`
}

/** The one line a maintenance command prints instead of the warnings themselves. */
export function warningSummary(groups: WarningGroup[]): string | undefined {
  if (groups.length === 0) return undefined
  const specs = new Set(groups.flatMap((g) => g.specs)).size
  return `${groups.length} distinct warning${groups.length === 1 ? '' : 's'} about ${specs} spec${specs === 1 ? '' : 's'}; run "vidspec plan" to see them`
}
