import { specId } from '../spec/discover.js'
import { hashFiles } from '../spec/load.js'
import type { LoadedSpec } from './types.js'

/** A path as the lockfile and the spec state record it: project-relative, posix, like a spec's id. */
export const projectPath = specId

/** What the request was made from, not what the files hold now (a save may have come since). */
export async function dependencyHashes(spec: LoadedSpec): Promise<Record<string, string>> {
  const known = spec.deps.every((d) => spec.depHashes[d]) && spec.deps.length > 0
  return known ? spec.depHashes : hashFiles(spec.deps)
}

/** Content hashes of what a spec was made from: its local media and the files it imported. */
export async function provenance(root: string, spec: LoadedSpec): Promise<{ media: Record<string, string>; deps: Record<string, string> }> {
  const deps: Record<string, string> = {}
  for (const [abs, hash] of Object.entries(await dependencyHashes(spec))) deps[projectPath(root, abs)] = hash
  const media: Record<string, string> = {}
  for (const [ref, m] of spec.media) if (m.kind !== 'url') media[ref] = m.sha256
  return { media, deps }
}
