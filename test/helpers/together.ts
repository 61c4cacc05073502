import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import type { Store } from '@vidspec/core/internal'
import { cleanEnv, cliPath, tempProject, type CliResult, type TempProject } from './project.js'

/**
 * Settings that keep runs against the fake fast: polls every few ms, retries after a few ms, and a
 * request timeout short enough that a hung request ends within a test.
 */
export const FAST = {
  provider: 'together',
  retry: { retries: 4, minDelayMs: 5, maxDelayMs: 50 },
  together: { requestTimeoutMs: 1_500 },
  jobs: { pollIntervalMs: 20, maxPollIntervalMs: 50 },
} as const

/** A Together spec. 1366x768 is a documented size; the fake still serves a tiny clip. */
export function togetherSpec(prompt: string): string {
  return (
    "import { defineVideo } from '@vidspec/core'\n" +
    `export default defineVideo({ model: 'minimax/hailuo-02', prompt: ${JSON.stringify(prompt)}, seconds: 1, width: 1366, height: 768 })\n`
  )
}

/** `count` specs (`clip-0.video.ts` ... with prompts `clip 0` ...) and, for the CLI, a config with FAST. */
export async function togetherProject(count: number, config: object = FAST): Promise<TempProject> {
  const files: Record<string, string> = { 'vidspec.config.ts': `export default ${JSON.stringify(config, null, 2)}\n` }
  for (let i = 0; i < count; i++) files[`clip-${i}.video.ts`] = togetherSpec(`clip ${i}`)
  return tempProject(files)
}

/** Every regular file under `dir`, as paths relative to it (empty when `dir` does not exist). */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (at: string): Promise<void> => {
    let items
    try {
      items = await readdir(at, { withFileTypes: true })
    } catch {
      return
    }
    for (const item of items) {
      const path = join(at, item.name)
      if (item.isDirectory()) await walk(path)
      else out.push(relative(dir, path))
    }
  }
  await walk(dir)
  return out.sort()
}

export interface StoreShape {
  entries: string[]
  objects: string[]
  journals: string[]
  /** Markers of creates whose answer never came (a paid job may exist without its id). */
  uncertain: string[]
  locks: string[]
  tmp: string[]
}

/** What the store directory holds, by folder. */
export async function storeShape(storeDir: string): Promise<StoreShape> {
  const files = await listFiles(storeDir)
  const under = (folder: string) => files.filter((f) => f.startsWith(`${folder}/`)).map((f) => f.slice(folder.length + 1))
  return {
    entries: under('entries'),
    objects: under('objects'),
    journals: under('jobs').filter((f) => !f.endsWith('.uncertain.json')),
    uncertain: under('jobs').filter((f) => f.endsWith('.uncertain.json')),
    locks: under('locks'),
    tmp: under('tmp'),
  }
}

/**
 * The invariants every run must leave behind, whatever failed: `verify` finds nothing wrong (no
 * corrupt, missing or orphaned object, so no partial download was ever committed), no temp file or
 * lock is left, and the entries and journals are exactly the ones expected.
 */
export async function soundStore(store: Store): Promise<StoreShape & { problems: string[] }> {
  const report = await store.verify()
  const shape = await storeShape(store.dir)
  const problems = [
    ...report.corrupt.map((p) => `corrupt ${p.path}: ${p.reason}`),
    ...report.missing.map((m) => `missing ${m.path}`),
    ...report.orphans.map((o) => `orphan ${o.path}`),
    ...shape.tmp.map((t) => `temp file left: ${t}`),
    ...shape.locks.map((l) => `lock left: ${l}`),
  ]
  return { ...shape, problems }
}

export interface CliChild {
  child: ChildProcessWithoutNullStreams
  /** Settles when the process has exited and its output is closed. */
  done: Promise<CliResult>
  output(): { stdout: string; stderr: string }
  /** Kills it (if still running) and waits for it: for `finally` blocks. */
  stop(): Promise<CliResult>
}

/**
 * Starts the real `vidspec` bin without waiting for it, so a test can signal it mid-run. `entry`
 * replaces the bin with a script that imports it (to observe the process from inside).
 */
export function spawnCli(
  args: string[],
  opts: { cwd: string; env?: Record<string, string | undefined>; entry?: string },
): CliChild {
  const child = spawn(process.execPath, [opts.entry ?? cliPath, ...args], { cwd: opts.cwd, env: cleanEnv(opts.env), stdio: 'pipe' })
  child.stdin.end()
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return {
    child,
    done,
    output: () => ({ stdout, stderr }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      return done
    },
  }
}


interface JournalFile {
  key: string
  jobId?: string
  spec: string
  createdAt: string
  origin?: { baseURL: string; account: string }
}

/** Every record in jobs/<key>.json, parsed: journaled jobs and write-ahead intents (no job id yet). */
export async function journalFiles(storeDir: string): Promise<JournalFile[]> {
  const names = (await listFiles(join(storeDir, 'jobs'))).filter((n) => n.endsWith('.json') && !n.endsWith('.uncertain.json'))
  const read = await Promise.all(
    names.map(async (n) => {
      try {
        return JSON.parse(await readFile(join(storeDir, 'jobs', n), 'utf8')) as JournalFile
      } catch {
        // Renamed away between the listing and the read.
        return undefined
      }
    }),
  )
  return read.filter((r): r is JournalFile => r !== undefined)
}

/** The journaled paid jobs (records with a job id), parsed. */
export async function journals(storeDir: string): Promise<Array<JournalFile & { jobId: string }>> {
  return (await journalFiles(storeDir)).filter((r): r is JournalFile & { jobId: string } => typeof r.jobId === 'string')
}
