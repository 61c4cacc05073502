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

function explainChange(item: PlanItem): string[] {
  const lines = (item.changes ?? []).map((c) => `  ${describeChange(c)}`)
  if (lines.length === 0) lines.push('  same request, different key: the provider or the key format changed')
  const changed = item.changedDeps ?? []
  const own = changed.filter((f) => f === item.id)
  const shared = changed.filter((f) => f !== item.id)
  const contentOnly = (item.changes ?? []).length > 0 && (item.changes ?? []).every((c) => c.kind === 'content')
  if (shared.length > 0 && own.length === 0) {
    lines.push(`  caused by a shared module: ${shared.join(', ')} (the spec file itself is unchanged)`)
  } else if (own.length > 0 && shared.length > 0) {
    lines.push(`  caused by the spec file and by ${shared.join(', ')}`)
  } else if (own.length > 0) {
    lines.push('  caused by an edit of the spec file')
  } else if (contentOnly) {
    lines.push('  caused by the content of a referenced media file')
  }
  return lines
}
