import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'vitest'
import { Store, probeVideo, sha256Hex } from '@vidspec/core/internal'
import type { FakeTogether } from '../fake-together/server.js'
import { runCli, type CliResult } from './project.js'
import { storeShape } from './together.js'
import { until } from './wait.js'

/** What `vidspec build --json` printed, per spec. */
export interface BuildJson {
  counts: Record<'generated' | 'cached' | 'failed' | 'invalid', number>
  specs: Array<{ spec: string; status: string; key?: string; error?: { code?: string; message: string } }>
}

export interface BuildRun extends CliResult {
  json: BuildJson | undefined
  /** Error code per spec id (undefined for a spec that built). */
  codes: Record<string, string | undefined>
}

/** `vidspec build --json` in `root`, against the fake; `env` adds to (or removes from) the defaults. */
export async function cliBuild(
  root: string,
  env: Record<string, string | undefined>,
  args: string[] = [],
): Promise<BuildRun> {
  const r = await runCli(['build', '--json', ...args], { cwd: root, env: { CI: undefined, ...env }, timeoutMs: 60_000 })
  let json: BuildJson | undefined
  try {
    json = r.stdout ? (JSON.parse(r.stdout) as BuildJson) : undefined
  } catch {
    json = undefined
  }
  const codes = Object.fromEntries((json?.specs ?? []).map((s) => [s.spec, s.error?.code]))
  return { ...r, json, codes }
}

/** Paid twice: creates beyond the first, summed over every canonical body the fake received. */
export function duplicateCreates(fake: FakeTogether): number {
  return [...fake.createsByBody.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0)
}

/**
 * Every stored clip is whole: the store's verify finds nothing wrong, every object hashes to its
 * digest, and ffprobe reads it as the video its entry describes. Returns the entries.
 */
export async function expectValidClips(storeDir: string) {
  const store = new Store(storeDir)
  const report = await store.verify()
  expect([...report.corrupt, ...report.missing]).toEqual([])
  const entries = await store.listEntries()
  for (const e of entries) {
    const path = store.objectPath(e.digest, e.ext)
    expect(sha256Hex(await readFile(path))).toBe(e.digest)
    const probed = await probeVideo(path)
    expect(probed).toMatchObject({ width: e.width, height: e.height, ext: e.ext })
    expect(probed.duration).toBeGreaterThan(0)
  }
  // No partial download was ever committed (verify also reports orphans: an object of a killed commit).
  expect((await storeShape(storeDir)).entries).toHaveLength(entries.length)
  return entries
}

/** Every job the fake ran is either stored as a clip or still journaled: no paid job id was lost. */
export async function lostJobIds(fake: FakeTogether, storeDir: string): Promise<string[]> {
  const store = new Store(storeDir)
  const kept = new Set([
    ...(await store.listEntries()).map((e) => e.jobId),
    ...(await store.listJobs()).map((j) => j.jobId),
  ])
  return fake.jobs.map((j) => j.id).filter((id) => !kept.has(id))
}

/** Waits until process `pid` is stopped (SIGSTOP, state T in /proc). */
export async function stopped(pid: number | undefined): Promise<void> {
  await until(`process ${pid} to stop`, async () => {
    const stat = await readFile(join('/proc', String(pid), 'stat'), 'utf8').catch(() => '')
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')
  })
}
