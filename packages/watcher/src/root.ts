import { existsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { CONFIG_FILE_NAMES } from '@vidspec/core/plan-verdict'

/**
 * The project a command works on. `--root` wins (it must be an existing folder); otherwise, like
 * Vite and ESLint, the nearest folder from the working directory upward that holds a
 * `vidspec.config.*`, stopping at the repository root (a folder with `.git`); with none found, the
 * working directory. A problem is said, not thrown: the no-op plan's early answer (plan-replay.ts)
 * only needs to know there is one. Imports nothing of core's entry, for that same early answer.
 */
export function locateRoot(cwd: string, values: { root?: string | undefined; config?: string | undefined }): { root: string } | { problem: string } {
  if (values.root !== undefined) {
    const root = resolve(cwd, values.root)
    if (!isDir(root)) return { problem: `--root ${values.root}: ${existsSync(root) ? 'not a folder' : 'no such folder'} (${root})` }
    return { root }
  }
  if (values.config !== undefined) return { root: cwd }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (CONFIG_FILE_NAMES.some((name) => existsSync(join(dir, name)))) return { root: dir }
    if (existsSync(join(dir, '.git')) || dirname(dir) === dir) return { root: resolve(cwd) }
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}
