import { readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import type { TempProject } from '../helpers/project.js'
import { cliBuild, duplicateCreates, expectValidClips, stopped } from '../helpers/pay-once.js'
import { FAST, spawnCli, storeShape, togetherProject, type CliChild } from '../helpers/together.js'
import { until, waitFor } from '../helpers/wait.js'

// The process holding a key's lock is paused (SIGSTOP: a debugger, a closed laptop lid) right before
// it sends the create, for far longer than the lock's age limit. A second build must wait, never take
// the lock over and never create; once the first goes on, it pays once and the second reuses the clip.
// And a holder whose lock was taken over anyway notices right before sending, and sends nothing.

const API_KEY = 'tg-pay-once-lock-81f0c6d2a4b9e375'
const STALE_MS = 200

let fake: FakeTogether
let project: TempProject | undefined
const children: CliChild[] = []

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 40 })
})
afterAll(async () => {
  await fake?.close()
})
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.child.kill('SIGCONT')
    await c.stop()
  }
  await project?.dispose()
  project = undefined
  fake.reset()
})

const env = (extra: Record<string, string> = {}) => ({ TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: undefined, ...extra })
const posts = () => fake.requests.get('POST /videos') ?? 0
const storeDir = () => join(project?.root ?? '', '.vidspec')

function build(extra: Record<string, string> = {}): CliChild {
  const child = spawnCli(['build', '--json'], { cwd: project?.root ?? '', env: env(extra) })
  children.push(child)
  return child
}

/** The one lock file of the project's single spec, once it exists. */
async function lockFile(): Promise<string> {
  const [name] = await until('the lock file', async () => (await storeShape(storeDir())).locks.filter((l) => l.endsWith('.lock')))
  return join(storeDir(), 'locks', name as string)
}

describe('a paused lock holder', () => {
  it('SIGSTOPped past the lock age limit right before its create: the waiter never takes over or creates; 1 create', async () => {
    project = await togetherProject(1, { ...FAST, locks: { staleMs: STALE_MS } })
    const holder = build({ VIDSPEC_TEST_STOP_AT: 'before-intent' })
    await stopped(holder.child.pid)
    const path = await lockFile()
    const held = await readFile(path, 'utf8')

    const waiter = build()
    await waitFor('the second build to wait for the lock', () => /job:waiting/.test(waiter.output().stderr))
    // The waiter polls the lock every 100 ms; let its heartbeat grow to many times the age limit.
    await until('the lock heartbeat to be 8x older than the limit', async () => Date.now() - (await stat(path)).mtimeMs > 8 * STALE_MS)
    expect(waiter.child.exitCode).toBeNull()
    expect(await readFile(path, 'utf8')).toBe(held)
    expect(posts()).toBe(0)

    holder.child.kill('SIGCONT')
    const [first, second] = await Promise.all([holder.done, waiter.done])
    expect(first.code, first.stderr).toBe(0)
    expect(second.code, second.stderr).toBe(0)
    const statuses = [first, second].map((r) => (JSON.parse(r.stdout) as { specs: Array<{ status: string }> }).specs[0]?.status)
    expect(statuses).toEqual(['generated', 'cached'])
    expect(posts()).toBe(1)
    expect(fake.creates).toBe(1)
    expect(duplicateCreates(fake)).toBe(0)
    expect((await expectValidClips(storeDir())).map((e) => e.jobId)).toEqual([fake.jobs[0]?.id])
  })

  it('a holder whose lock was taken over while it was paused re-checks before sending, and sends nothing', async () => {
    project = await togetherProject(1, FAST)
    const holder = build({ VIDSPEC_TEST_STOP_AT: 'before-intent' })
    await stopped(holder.child.pid)
    const path = await lockFile()
    // As a rival that (wrongly, or from another host after otherHostStaleMs) took the lock over.
    const rival = { pid: process.pid, hostname: 'rival-host', createdAt: new Date().toISOString(), token: 'rival-token' }
    await writeFile(path, `${JSON.stringify(rival)}\n`)
    holder.child.kill('SIGCONT')
    const r = await holder.done
    expect(r.code, r.stderr).toBe(1)
    const spec = (JSON.parse(r.stdout) as { specs: Array<{ error?: { code: string; message: string } }> }).specs[0]
    expect(spec?.error?.code).toBe('LOCK_LOST')
    expect(spec?.error?.message).toMatch(/nothing was sent/)
    expect(posts()).toBe(0)
    // The rival's lock is left alone.
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ token: 'rival-token' })

    await rm(path) // the rival finished and released it
    const later = await cliBuild(project.root, env())
    expect(later.json?.specs[0]?.status, later.stderr).toBe('generated')
    expect(fake.creates).toBe(1)
  })
})
