import type { PlanItem } from '../project.js'
import { describeChange } from './diff.js'

/**
 * `vidspec plan --explain`: for every spec that needs work, what differs from the approved (locked)
 * or last-built request, field by field, and what caused it: the spec itself, a module it imports,
 * or the content of a referenced file. Deterministic text, so it can be reviewed and snapshotted.
 */
export function explainPlan(items: PlanItem[]): string {
  const out: string[] = []
  for (const item of [...items].sort((a, b) => a.id.localeCompare(b.id))) {
    switch (item.status) {
      case 'cached':
        out.push(
          `cached   ${item.id}${item.restorable ? ' (approved clip restored from vidspec.lock.json)' : item.remote ? ' (in the remote cache; a build fetches it)' : ''}`,
        )
        break
      case 'new':
        out.push(`new      ${item.id}`, '  never built: no lockfile entry and no earlier build')
        break
      case 'invalid':
        out.push(`invalid  ${item.id}`, ...(item.error?.message.split('\n').slice(1) ?? []).map((l) => `  ${l.trim()}`))
        break
      case 'changed':
        out.push(`changed  ${item.id} (against the ${item.basis ?? 'last build'})`, ...explainChange(item))
        break
    }
  }
  return `${out.join('\n')}\n`
}

/**
 * The changed fields, then what caused them, claimed only when it can be known: one changed file
 * (the spec or one module) behind request fields that changed; media content behind content-only
 * changes. Otherwise the changed files are listed as changed, not as the cause.
 */
function explainChange(item: PlanItem): string[] {
  const changes = item.changes ?? []
  const lines = changes.map((c) => `  ${describeChange(c)}`)
  if (item.previousProvider && item.previousProvider !== item.spec?.provider) {
    lines.unshift(
      `  the provider changed: ${item.previousProvider} → ${item.spec?.provider ?? 'another'} (each provider has its own keys; the ${item.previousProvider} clip is kept)`,
    )
  } else if (lines.length === 0) {
    lines.push('  same request and provider, different key: the key format changed (a vidspec upgrade)')
  }
  const changed = item.changedDeps ?? []
  const own = changed.filter((f) => f === item.id)
  const shared = changed.filter((f) => f !== item.id)
  const fieldChanges = changes.filter((c) => c.kind !== 'content')
  const contentOnly = changes.length > 0 && fieldChanges.length === 0
  if (contentOnly) {
    lines.push('  caused by the content of a referenced media file')
    if (changed.length > 0) lines.push(`  also changed, with no effect on the request: ${changed.join(', ')}`)
  } else if (fieldChanges.length > 0 && changed.length === 1 && own.length === 1) {
    lines.push('  caused by an edit of the spec file')
  } else if (fieldChanges.length > 0 && changed.length === 1) {
    lines.push(`  caused by a shared module: ${shared.join(', ')} (the spec file itself is unchanged)`)
  } else if (changed.length > 0) {
    lines.push(`  changed files: ${changed.join(', ')}`)
  }
  return lines
}
