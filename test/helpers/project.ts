import { spawn } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const cliPath = join(repoRoot, 'packages/watcher/bin/vidspec.js')

export interface TempProject {
  root: string
  write(path: string, content: string | Buffer): Promise<void>
  read(path: string): Promise<string>
  path(...parts: string[]): string
  dispose(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** A throwaway project directory; `dispose()` removes it. */
export async function tempProject(files: Record<string, string | Buffer> = {}): Promise<TempProject> {
  const root = await mkdtemp(join(tmpdir(), 'vidspec-it-'))
  const project: TempProject = {
    root,
    async write(path, content) {
      await mkdir(dirname(join(root, path)), { recursive: true })
      await writeFile(join(root, path), content)
    },
    read: (path) => readFile(join(root, path), 'utf8'),
    path: (...parts) => join(root, ...parts),
    dispose: () => rm(root, { recursive: true, force: true }),
    [Symbol.asyncDispose]: () => rm(root, { recursive: true, force: true }),
  }
  for (const [path, content] of Object.entries(files)) await project.write(path, content)
  return project
}

/**
 * The answers `vidspec plan` kept in a project (one file per query, under node_modules/.cache/vidspec),
 * as paths relative to its root.
 */
export async function keptPlanAnswers(project: TempProject): Promise<string[]> {
  const dir = 'node_modules/.cache/vidspec'
  const names = await readdir(project.path(dir)).catch(() => [] as string[])
  return names.filter((n) => n.startsWith('plan-verdict-')).map((n) => `${dir}/${n}`)
}

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs the real `vidspec` bin in a child process (the built dist), with a clean environment. */
export function runCli(
  args: string[],
  opts: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number; close?: Array<'stdout' | 'stderr'> },
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: opts.cwd,
      env: cleanEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    // A reader that goes away at once, before the CLI has written anything (`vidspec plan | head -0`).
    for (const name of opts.close ?? []) child[name].destroy()
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolvePromise({ code, signal, stdout, stderr })
    })
  })
}

/** The parent's environment minus anything that would change what the CLI does. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' }
  for (const name of ['TOGETHER_API_KEY', 'TOGETHER_BASE_URL', 'VIDSPEC_FFMPEG', 'VIDSPEC_FFPROBE', 'VIDSPEC_DEBUG']) {
    delete env[name]
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return env
}

/**
 * An ffmpeg wrapper that logs every call and then runs the real binary, so tests count offline
 * generations by what actually ran, not by what the CLI says it did.
 */
export async function countingFfmpeg(dir: string, realFfmpeg: string): Promise<{ path: string; count(): Promise<number> }> {
  const log = join(dir, 'ffmpeg-calls.log')
  const path = join(dir, 'ffmpeg-counting.sh')
  await writeFile(log, '')
  await writeFile(path, `#!/bin/sh\necho call >> "${log}"\nexec "${realFfmpeg}" "$@"\n`)
  await chmod(path, 0o755)
  return {
    path,
    async count() {
      return (await readFile(log, 'utf8')).split('\n').filter(Boolean).length
    },
  }
}
