import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readPlanVerdict, type VerdictOutput } from '@vidspec/core/plan-verdict'
import { parseFlags, planOptions } from './options.js'
import type { Io } from './output.js'
import { locateRoot } from './root.js'

/*
 * The early answer of a no-op `vidspec plan`: the bin asks this before it loads the CLI or core's
 * entry. When the last plan with the same query found every spec cached and nothing it rested on has
 * changed since (core's plan/verdict.ts), its output is written again and that is the whole run: a
 * fresh process stats the project's files instead of loading vidspec, its config, memos and store.
 * Anything else (another query, a change, a bad flag, --help) answers undefined and the CLI runs.
 * Imports only Node, core's small `plan-verdict` entry and modules that import nothing of core's entry.
 */

/** Set per shell or per `cd`, never read by vidspec or a config: left out of the query. */
const VOLATILE_ENV = new Set(['_', 'OLDPWD', 'PWD', 'SHLVL'])

/**
 * Everything a plan's output may depend on besides files: the arguments, the working folder, the
 * environment (the config and the provider read it), the terminal (the output's form) and Node.
 */
export function planQuery(argv: string[], io: Io): string {
  const env = Object.entries(io.env)
    .filter(([name]) => !VOLATILE_ENV.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return JSON.stringify({ argv, cwd: io.cwd, env, tty: [Boolean(io.stdout.isTTY), Boolean(io.stderr.isTTY), io.stderr.columns ?? null], node: process.version })
}

/** The exit code when the last plan's output was the answer and has been written again; else undefined. */
export function replayPlan(argv: string[], io: Io): number | undefined {
  let values
  try {
    values = parseFlags(argv, planOptions).values
  } catch {
    return undefined
  }
  if (values.help) return undefined
  const found = locateRoot(io.cwd, values)
  if ('problem' in found) return undefined
  const verdict = readPlanVerdict(found.root, planQuery(argv, io))
  if (!verdict) return undefined
  for (const [fd, text] of verdict.output) (fd === 1 ? io.stdout : io.stderr).write(text)
  return verdict.exitCode
}

/** `io` whose writes are also kept, in order, for the verdict. */
export function recordingIo(io: Io): { io: Io; output: VerdictOutput } {
  const output: VerdictOutput = []
  const tee = <S extends Io['stdout'] | Io['stderr']>(stream: S, fd: 1 | 2): S =>
    new Proxy(stream, {
      get(target, prop) {
        if (prop !== 'write') {
          const value = Reflect.get(target, prop) as unknown
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
        }
        return (chunk: unknown, ...rest: unknown[]) => {
          output.push([fd, typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8')])
          return (target.write as (...args: unknown[]) => boolean).call(target, chunk, ...rest)
        }
      },
    })
  return { io: { ...io, stdout: tee(io.stdout, 1), stderr: tee(io.stderr, 2) }, output }
}

/** The files of this CLI (its compiled modules and its bin): a new version prints differently. */
export function cliFiles(): string[] {
  const dist = dirname(fileURLToPath(import.meta.url))
  const files = [join(dist, '..', 'bin', 'vidspec.js')]
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name))
      else if (e.name.endsWith('.js')) files.push(join(dir, e.name))
    }
  }
  walk(dist)
  return files
}
