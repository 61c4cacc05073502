import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { writeRebuildableSync } from '../store/atomic.js'
import { isSettled, packStamp, statStamp } from '../store/stamp.js'
import { dirStamp } from '../spec/discovery-memo.js'

/*
 * A plan's verdict: what `vidspec plan` printed when it found every spec cached, with the stamp of
 * every file and folder that answer rested on. The next plan with the same arguments and environment
 * stats those instead of loading vidspec, its config, its memos and its store: while every stamp
 * still matches, nothing the answer depends on has changed, and the same output is the right one.
 *
 * The trust is the memos' own: a file's stamp (size, mtime, ctime, inode, device) vouches for its
 * bytes, and a folder's for its entries (discovery-memo.ts). Every stamp recorded had settled (changed
 * more than RACY_MS before the plan began), so the plan read what the stamp describes, and any later
 * change moves the ctime, which no tool can set back. A file that was absent is recorded as absent:
 * creating it is a change too.
 */

const VERSION = 1

/**
 * Answers kept, one per query, each in a file of its own: `plan` and `plan --json` (or a plan from
 * another folder) in turn each find theirs, and a repeated plan reads one answer, not all of them.
 * Past this many, the oldest recorded goes.
 */
const KEPT = 8

/** Where the answers live: with the config memo, under node_modules/.cache/vidspec, found from the root alone. */
export const verdictFolder = (root: string): string => join(root, 'node_modules', '.cache', 'vidspec')

const VERDICT_NAME = /^plan-verdict-[0-9a-f]{16}\.json$/
const pathOf = (root: string, queryDigest: string): string => join(verdictFolder(root), `plan-verdict-${queryDigest.slice(0, 16)}.json`)

/** The file of the answer kept for `query`. */
export const verdictPath = (root: string, query: string): string => pathOf(root, digest(query))

/** What the command wrote, in order: to stdout (1) or stderr (2). */
export type VerdictOutput = Array<[1 | 2, string]>

export interface Verdict {
  output: VerdictOutput
  exitCode: number
}

/** Absolute path -> packed stamp, ABSENT or PRESENT. */
export interface Witness {
  files: Record<string, string>
  dirs: Record<string, string>
}

interface VerdictFile extends Verdict, Witness {
  version: typeof VERSION
  /** sha256 of the query: the command's arguments, environment and terminal (the CLI's to say). */
  query: string
}

const ABSENT = '-'
/** A file that must be there, whatever its stamp: a memo, rewritten whenever it learns something. */
const PRESENT = '+'

const digest = (query: string) => createHash('sha256').update(query).digest('hex')

/** The file's packed stamp, ABSENT when there is none, or undefined when it changed after `settled` (ms). */
export function witnessFile(path: string, settled: number): string | undefined {
  const stamp = statStamp(path)
  if (!stamp) return ABSENT
  return isSettled(stamp, settled) ? (packStamp(stamp) as string) : undefined
}

/** PRESENT when the file is there (its contents aside), else undefined. */
export function witnessPresence(path: string): string | undefined {
  return statStamp(path) ? PRESENT : undefined
}

/** Whether the file's stamp is the one recorded (or it is absent, or present, as recorded). */
function holds(path: string, recorded: string | undefined): boolean {
  const stamp = statStamp(path)
  return recorded === PRESENT ? stamp !== undefined : (packStamp(stamp) ?? ABSENT) === recorded
}

/** The output of the last plan for `query`, when every file and folder it rested on is as it was. */
export function readPlanVerdict(root: string, query: string): Verdict | undefined {
  const queryDigest = digest(query)
  let file: Partial<VerdictFile> | null
  try {
    file = JSON.parse(readFileSync(pathOf(root, queryDigest), 'utf8')) as Partial<VerdictFile> | null
  } catch {
    return undefined
  }
  if (typeof file !== 'object' || file === null || file.version !== VERSION || file.query !== queryDigest || !isOutput(file.output) || typeof file.exitCode !== 'number') return undefined
  if (typeof file.files !== 'object' || file.files === null || typeof file.dirs !== 'object' || file.dirs === null) return undefined
  for (const path in file.files) if (!holds(path, file.files[path])) return undefined
  for (const path in file.dirs) if (dirStamp(path)?.packed !== file.dirs[path]) return undefined
  return { output: file.output, exitCode: file.exitCode }
}

/** Keeps the verdict for the next plan (atomic, not durable: losing it costs one full plan). */
export function writePlanVerdict(root: string, query: string, witness: Witness, verdict: Verdict): void {
  const file: VerdictFile = { version: VERSION, query: digest(query), ...verdict, ...witness }
  const path = pathOf(root, file.query)
  writeRebuildableSync(dirname(path), path, JSON.stringify(file), { mkdir: true })
  dropOldest(dirname(path), path)
}

/** The one answer an earlier version kept, for whichever query ran last: never read again. */
const LEGACY_NAME = 'plan-verdict.json'

/**
 * Keeps the newest KEPT answers (`kept` among them), and removes an earlier version's answer. Best
 * effort, as the answers are: each costs one full plan.
 */
function dropOldest(folder: string, kept: string): void {
  let names: string[]
  try {
    const all = readdirSync(folder)
    if (all.includes(LEGACY_NAME)) rmSync(join(folder, LEGACY_NAME), { force: true })
    names = all.filter((name) => VERDICT_NAME.test(name))
  } catch {
    return
  }
  if (names.length <= KEPT) return
  const others = names
    .map((name) => join(folder, name))
    .filter((path) => path !== kept)
    .map((path) => ({ path, recorded: statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => a.recorded - b.recorded)
  for (const { path } of others.slice(0, names.length - KEPT)) rmSync(path, { force: true })
}

function isOutput(v: unknown): v is VerdictOutput {
  return Array.isArray(v) && v.every((c) => Array.isArray(c) && (c[0] === 1 || c[0] === 2) && typeof c[1] === 'string')
}
