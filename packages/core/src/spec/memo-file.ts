import type { MemoizedSpec } from './memo.js'

/** One spec's record in memory: what its load produced, and the sha256 of every file it read. */
export interface MemoRecord {
  /** Absolute path -> sha256 of every file the result depends on: the spec, its imports, local media. */
  inputs: Record<string, string>
  spec: MemoizedSpec
}

/**
 * The memo on disk. Every run parses all of it, and reading, decoding and parsing cost ~35 ms a MB in
 * a fresh process, so what repeats is written once: each path a record names (a shared module is
 * named by every spec that imports it, twice) and each warning text (the same few warnings on many
 * specs), without the `<spec>: ` that begins most of them. Half the bytes of the plain form.
 */
export interface MemoFile {
  version: 2
  keyVersion: number
  provider: string
  paths: string[]
  warnings: string[]
  /** Spec id -> [inputs as path index, sha256, path index, sha256, ...; deps as path indexes; the rest]. */
  specs: Record<string, StoredRecord>
  /** Absolute path -> [its packed stamp, its sha256 then]. */
  stamps?: Record<string, [string, string]>
}

type StoredRecord = [inputs: Array<number | string>, deps: number[], spec: StoredSpec]
/** A warning is an index into `warnings` (to be prefixed with `<spec>: `) or, when it has no such prefix, its text. */
type StoredSpec = Omit<MemoizedSpec, 'deps' | 'warnings' | 'inputs'> & { warnings: Array<number | string> }

export function encodeMemo(
  head: { keyVersion: number; provider: string },
  specs: Record<string, MemoRecord>,
  stamps: Record<string, [string, string]>,
): MemoFile {
  const paths: string[] = []
  const pathAt = new Map<string, number>()
  const path = (p: string): number => {
    let i = pathAt.get(p)
    if (i === undefined) pathAt.set(p, (i = paths.push(p) - 1))
    return i
  }
  const warnings: string[] = []
  const warningAt = new Map<string, number>()
  const out: Record<string, StoredRecord> = {}
  for (const id in specs) {
    const rec = specs[id] as MemoRecord
    const inputs: Array<number | string> = []
    for (const p in rec.inputs) inputs.push(path(p), rec.inputs[p] as string)
    const { deps, warnings: said, ...rest } = rec.spec
    const prefix = `${id}: `
    const stored = said.map((w) => {
      if (!w.startsWith(prefix)) return w
      const text = w.slice(prefix.length)
      let i = warningAt.get(text)
      if (i === undefined) warningAt.set(text, (i = warnings.push(text) - 1))
      return i
    })
    out[id] = [inputs, deps.map(path), { ...rest, warnings: stored }]
  }
  return { version: 2, ...head, paths, warnings, specs: out, stamps }
}

/** The records of a memo file, or undefined when it is not one this version wrote (then nothing is used). */
export function decodeMemo(file: Partial<MemoFile>): Record<string, MemoRecord> | undefined {
  const { paths, warnings, specs } = file
  if (!Array.isArray(paths) || !Array.isArray(warnings) || typeof specs !== 'object' || specs === null) return undefined
  const out: Record<string, MemoRecord> = {}
  for (const id in specs) {
    const rec = decodeRecord(id, specs[id], paths, warnings)
    // A record this cannot read is left out: its spec is evaluated again.
    if (rec) out[id] = rec
  }
  return out
}

function decodeRecord(id: string, stored: unknown, paths: unknown[], warnings: unknown[]): MemoRecord | undefined {
  if (!Array.isArray(stored) || stored.length !== 3) return undefined
  const [inputs, deps, spec] = stored as [unknown, unknown, unknown]
  if (!Array.isArray(inputs) || inputs.length % 2 !== 0 || !Array.isArray(deps) || typeof spec !== 'object' || spec === null) return undefined
  const said = (spec as { warnings?: unknown }).warnings
  if (!Array.isArray(said)) return undefined
  const named: Record<string, string> = {}
  for (let i = 0; i < inputs.length; i += 2) {
    const p = paths[inputs[i] as number]
    const sha = inputs[i + 1]
    if (typeof p !== 'string' || typeof sha !== 'string') return undefined
    named[p] = sha
  }
  const depPaths: string[] = []
  for (const d of deps) {
    const p = paths[d as number]
    if (typeof p !== 'string') return undefined
    depPaths.push(p)
  }
  const texts: string[] = []
  for (const w of said) {
    const text = typeof w === 'number' ? warnings[w] : w
    if (typeof text !== 'string') return undefined
    texts.push(typeof w === 'number' ? `${id}: ${text}` : text)
  }
  return { inputs: named, spec: { ...(spec as Omit<MemoizedSpec, 'deps' | 'warnings'>), deps: depPaths, warnings: texts } }
}
