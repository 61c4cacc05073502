import { VidspecError } from '../errors.js'
import { specId, specName } from './discover.js'

/**
 * Every spec's output is `<name>.<ext>` (in `--out`, in a Vite build's assets, in manifests), so two
 * specs whose names are equal would write one file and one of them would silently win. Names equal
 * up to case collide too: macOS and Windows file systems fold case. And a spec outside the project
 * root (a glob like `../x/*.video.ts`) would have a name starting with `../`, which writes outside
 * the out folder. Both are refused before any work, naming every file involved.
 */
export function checkOutputNames(root: string, files: string[]): void {
  const problems: string[] = []
  const byName = new Map<string, string[]>()
  for (const file of files) {
    const id = specId(root, file)
    if (id === '..' || id.startsWith('../') || /^[a-zA-Z]:|^\//.test(id)) {
      problems.push(
        `${file} lies outside the project root ${root}: its output name "${specName(root, file)}" would be written outside the out folder; move the spec inside the root, or make its parent folder the root (--root), and narrow the include globs`,
      )
      continue
    }
    // NFC and lower case: what a case-insensitive, normalizing file system (APFS, NTFS) treats as one name.
    const folded = specName(root, file).normalize('NFC').toLowerCase()
    byName.set(folded, [...(byName.get(folded) ?? []), id])
  }
  for (const ids of byName.values()) {
    if (ids.length < 2) continue
    const names = [...new Set(ids.map((id) => specName(root, `${root}/${id}`)))]
    const same = names.length === 1 ? `the same output name "${names[0]}"` : `output names equal up to case (${names.map((n) => `"${n}"`).join(', ')})`
    problems.push(`${ids.join(' and ')} have ${same}, so one clip would overwrite the other; rename one of them`)
  }
  if (problems.length === 0) return
  throw new VidspecError('CONFIG_INVALID', `spec outputs collide or escape:\n  - ${problems.join('\n  - ')}`, {
    file: files.find((f) => problems.some((p) => p.includes(specId(root, f)) || p.includes(f))) ?? root,
  })
}
