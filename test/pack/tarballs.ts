import { spawn } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { repoRoot } from '../helpers/project.js'

export const PACKAGES = ['core', 'vite', 'watcher'] as const
export type PackageDir = (typeof PACKAGES)[number]

export interface Result {
  code: number | null
  out: string
}

/** Runs a command to its end; never throws on a non-zero exit (the caller asserts on it). */
export function exec(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })
}

export async function mustExec(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<string> {
  const r = await exec(cmd, args, opts)
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${opts.cwd} exited with ${r.code}:\n${r.out}`)
  return r.out
}

/** `pnpm pack` of each package into `dest` (pnpm rewrites `workspace:*` to the version); name -> tarball path. */
export async function packAll(dest: string): Promise<Record<PackageDir, string>> {
  const out = {} as Record<PackageDir, string>
  for (const pkg of PACKAGES) {
    await mustExec('pnpm', ['pack', '--pack-destination', dest], { cwd: join(repoRoot, 'packages', pkg) })
    const file = (await readdir(dest)).find((f) => f.startsWith(`vidspec-${pkg}-`) && f.endsWith('.tgz'))
    if (!file) throw new Error(`pnpm pack of packages/${pkg} left no tarball in ${dest}`)
    out[pkg] = join(dest, file)
  }
  return out
}

/** The entries of a tarball (paths inside `package/`), from `tar`. */
export async function tarList(tarball: string): Promise<string[]> {
  const out = await mustExec('tar', ['tzf', tarball], { cwd: repoRoot })
  return out
    .split('\n')
    .filter((l) => l && !l.endsWith('/'))
    .map((l) => l.replace(/^package\//, ''))
}

export async function tarRead(tarball: string, path: string): Promise<string> {
  return mustExec('tar', ['xzOf', tarball, `package/${path}`], { cwd: repoRoot })
}
