import { execFileSync, spawn } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const cliPath = join(repoRoot, 'packages/watcher/bin/vidspec.js')

export interface Run {
  ms: number
  code: number | null
  stdout: string
  stderr: string
}

let pinCpu: string | null | undefined

/**
 * The CPU single-threaded comparisons run on (`taskset`, when the machine has it): on a small VM one
 * core can be much slower than another (this machine's cpu0 runs a no-op build 1.5x slower than cpu1),
 * so a process landing on either at random makes a bimodal series whose median jumps between modes.
 * Both sides of a comparison run on the same one; the last CPU, away from cpu0's interrupts.
 */
function pinned(): string | null {
  if (pinCpu !== undefined) return pinCpu
  const cpu = String(Math.max(0, availableParallelism() - 1))
  try {
    execFileSync('taskset', ['-c', cpu, 'true'], { stdio: 'ignore' })
    pinCpu = cpu
  } catch {
    pinCpu = null
  }
  return pinCpu
}

/**
 * Runs a command to completion and times it from spawn to exit (a whole process, startup included).
 * `pin`: on one CPU (see pinned), for comparisons of single-threaded work only: a measure that runs
 * work in parallel (worker pools, encoders) must keep every core.
 */
export function timed(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; pin?: boolean }): Promise<Run> {
  const cpu = opts.pin ? pinned() : null
  const [bin, argv] = cpu === null ? [cmd, args] : ['taskset', ['-c', cpu, cmd, ...args]]
  return new Promise((done, fail) => {
    const start = performance.now()
    const child = spawn(bin, argv, { cwd: opts.cwd, env: opts.env ?? benchEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', fail)
    child.on('close', (code) => done({ ms: performance.now() - start, code, stdout, stderr }))
  })
}

/** The environment of measured processes: no API key, no CI switches, nothing inherited by accident. */
export function benchEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v
  return env
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Alternates a and b `rounds` times (so drift hits both alike) and returns each one's run times. */
export async function interleave(rounds: number, a: () => Promise<number>, b: () => Promise<number>): Promise<[number[], number[]]> {
  const [as, bs] = await interleaveAll(rounds, [a, b])
  return [as ?? [], bs ?? []]
}

/**
 * Runs each measure once per round, in turn, `rounds` times (so drift hits all alike) and returns
 * each one's run times. A measure may skip a round by returning undefined (a slow one measured in
 * fewer rounds, still interleaved with the others).
 */
export async function interleaveAll(rounds: number, measures: Array<(round: number) => Promise<number | undefined>>): Promise<number[][]> {
  const out = measures.map((): number[] => [])
  for (let i = 0; i < rounds; i++) {
    for (const [j, measure] of measures.entries()) {
      const ms = await measure(i)
      if (ms !== undefined) out[j]?.push(ms)
    }
  }
  return out
}

export const fmt = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`
export const ratio = (x: number, base: number) => `${(x / base).toFixed(2)}×`

/** One line per figure, aligned, so the output reads as a table. */
export function report(title: string, rows: Array<[string, string]>): void {
  const width = Math.max(...rows.map(([k]) => k.length))
  console.log(`\n${title}`)
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`)
}

export function fail(message: string): never {
  console.error(message)
  process.exit(1)
}

/** What a measured process reports about itself as it exits (see `writeStatsWrapper`). */
export interface ExitStats {
  /** Peak resident memory (the kernel's VmHWM), bytes. */
  peakRss: number
  /** CPU time of the process itself, ms. */
  cpuMs: number
  /** Of which its main thread's (the rest: V8's compiler and GC threads, libuv's thread pool, workers). */
  mainThreadCpuMs: number
  /** CPU time of the children it waited for (ffprobe, ffmpeg), ms. */
  childCpuMs: number
}

/**
 * Writes `<dir>/stats.mjs`: runs the vidspec CLI and, as the process exits, writes its ExitStats as
 * JSON to the file named by STATS_FILE. Read from /proc (Linux only), so the CLI itself is untouched.
 */
export async function writeStatsWrapper(dir: string, cli: string = cliPath): Promise<string> {
  const script = join(dir, 'stats.mjs')
  await writeFile(
    script,
    `import { readFileSync, writeFileSync } from 'node:fs'
process.on('exit', () => {
  const kb = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]
  // Fields after the command name: utime, stime, cutime, cstime are the 12th to 15th, in clock ticks
  // (100/s); the process's own file counts every thread, the main thread's task file that one alone.
  const ms = (stat) => { const f = readFileSync(stat, 'utf8').split(') ')[1].split(' '); return (i) => Number(f[i]) * 10 }
  const all = ms('/proc/self/stat')
  const main = ms(\`/proc/self/task/\${process.pid}/stat\`)
  writeFileSync(process.env.STATS_FILE, JSON.stringify({ peakRss: Number(kb) * 1024, cpuMs: all(11) + all(12), mainThreadCpuMs: main(11) + main(12), childCpuMs: all(13) + all(14) }))
})
await import(${JSON.stringify(pathToFileURL(cli).href)})
`,
  )
  return script
}

export async function readStats(file: string): Promise<ExitStats> {
  return JSON.parse(await readFile(file, 'utf8')) as ExitStats
}

/** One row of the table issue 17 asks for, as a benchmark measured it. */
export interface SummaryRow {
  /** Where it goes in the table: rows are printed in this order. */
  order: number
  measure: string
  /** The figure and what it was measured against, e.g. `183 ms vs floor 135 ms`. */
  figure: string
  /** The figure as a ratio (or ms, for CPU per job), the number the target is about. */
  value: string
  target: string
  met?: boolean | undefined
}

/**
 * Hands a row to `pnpm bench` (run.ts), which prints every row of every benchmark it ran as one
 * table at the end; a benchmark run on its own prints only its own report.
 */
export async function summarize(row: SummaryRow): Promise<void> {
  const file = process.env.BENCH_SUMMARY
  if (!file) return
  const { appendFile } = await import('node:fs/promises')
  await appendFile(file, `${JSON.stringify(row)}\n`)
}
