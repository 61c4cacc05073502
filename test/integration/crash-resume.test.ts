import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { runCli, type TempProject } from '../helpers/project.js'
import { journals, spawnCli, storeShape, togetherProject, type CliChild } from '../helpers/together.js'
import { Store } from '@vidspec/core/internal'
import { waitFor } from '../helpers/wait.js'

// A real `vidspec build` process is stopped while its paid jobs are running: killed outright
// (SIGKILL: no cleanup code runs at all) or interrupted (SIGINT, as Ctrl-C). The next run must finish
// those very jobs, and the fake's create counter proves it paid for nothing more.

const API_KEY = 'tg-crash-resume-3b9f0e2a6c71d845'
const SPECS = 3
const JOB_MS = 60

let fake: FakeTogether
let project: TempProject | undefined
let child: CliChild | undefined

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: JOB_MS })
})
afterAll(async () => {
  await fake?.close()
})
afterEach(async () => {
  await child?.stop()
  child = undefined
  await project?.dispose()
  project = undefined
  fake.reset()
  fake.options.jobDurationMs = JOB_MS
})

const env = () => ({ TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: undefined })
const storeDir = () => join(project?.root ?? '', '.vidspec')

/** Starts a build whose jobs run until the test lets them finish, and waits until all are journaled. */
async function buildUntilJournaled(): Promise<CliChild> {
  fake.options.jobDurationMs = 600_000
  project = await togetherProject(SPECS)
  const started = spawnCli(['build', '--json'], { cwd: project.root, env: env() })
  child = started
  // The server counts a create before its answer reaches the client, and the journal is written on
  // receipt of that answer: a kill between the two would lose the id whatever the runner did.
  await waitFor('every job created and journaled', async () => {
    if (started.child.exitCode !== null) throw new Error(`vidspec exited early: ${started.output().stderr}`)
    return fake.creates === SPECS && (await journals(storeDir())).length === SPECS
  })
  expect(fake.inFlight).toBe(SPECS)
  return started
}

/** Lets every job the fake knows finish now, then runs `vidspec build` again. */
async function rerun() {
  for (const job of fake.jobs) job.durationMs = 0
  const r = await runCli(['build', '--json'], { cwd: project?.root ?? '', env: env(), timeoutMs: 60_000 })
  return { ...r, json: r.stdout ? (JSON.parse(r.stdout) as { counts: Record<string, number>; specs: Array<{ status: string }> }) : undefined }
}

async function expectAllStored(): Promise<void> {
  const store = new Store(storeDir())
  const report = await store.verify()
  expect(report.corrupt).toEqual([])
  expect(report.missing).toEqual([])
  const shape = await storeShape(storeDir())
  expect(shape.entries).toHaveLength(SPECS)
  expect(shape.journals).toEqual([])
  expect(shape.locks).toEqual([])
  const jobIds = new Set(fake.jobs.map((j) => j.id))
  for (const entry of await store.listEntries()) expect(jobIds.has(entry.jobId ?? '')).toBe(true)
}

describe('crash safety', () => {
  it('SIGKILL while jobs run: the next build finishes those jobs with zero extra creates', async () => {
    const killed = await buildUntilJournaled()
    const jobIds = fake.jobs.map((j) => j.id).sort()
    expect((await journals(storeDir())).map((j) => j.jobId).sort()).toEqual(jobIds)
    killed.child.kill('SIGKILL')
    expect((await killed.done).signal).toBe('SIGKILL')
    const left = await storeShape(storeDir())
    expect(left.entries).toEqual([])
    // The dead process's locks are still there; the next run must see their owner is gone.
    expect(left.locks.length).toBeGreaterThan(0)

    const r = await rerun()
    expect(r.code, r.stderr).toBe(0)
    expect(r.json?.counts).toMatchObject({ generated: SPECS, failed: 0 })
    expect(fake.creates).toBe(SPECS)
    expect(fake.jobs.map((j) => j.id).sort()).toEqual(jobIds)
    await expectAllStored()
  })

  it('SIGKILL mid-download: no partial object or entry, and the rerun downloads the same job again', async () => {
    project = await togetherProject(1)
    fake.fault({ kind: 'download-slow', chunkBytes: 1024, delayMs: 50 })
    const started = spawnCli(['build', '--json'], { cwd: project.root, env: env() })
    child = started
    await waitFor('the download to be under way', async () => {
      const [temp] = (await storeShape(storeDir())).tmp
      return temp !== undefined && ((await stat(join(storeDir(), 'tmp', temp)).catch(() => undefined))?.size ?? 0) >= 4096
    })
    started.child.kill('SIGKILL')
    await started.done
    const left = await storeShape(storeDir())
    expect(left.entries).toEqual([])
    expect(left.objects).toEqual([])
    expect(left.journals).toHaveLength(1)

    const r = await rerun()
    expect(r.code, r.stderr).toBe(0)
    expect(r.json?.counts.generated).toBe(1)
    expect(fake.creates).toBe(1)
    const store = await storeShape(storeDir())
    expect(store.entries).toHaveLength(1)
    expect(store.objects).toHaveLength(1)
    expect(store.journals).toEqual([])
    expect((await new Store(storeDir()).verify()).corrupt).toEqual([])
  })

  it('SIGINT (Ctrl-C) while jobs run: exits 130, keeps every journal, releases its locks; the rerun resumes', async () => {
    const interrupted = await buildUntilJournaled()
    interrupted.child.kill('SIGINT')
    const stopped = await interrupted.done
    expect(stopped.code).toBe(130)
    expect(stopped.stderr).toMatch(/resume next time/)
    const left = await storeShape(storeDir())
    expect(left.entries).toEqual([])
    expect(left.journals).toHaveLength(SPECS)
    expect(left.locks).toEqual([])
    expect(left.tmp).toEqual([])

    const r = await rerun()
    expect(r.code, r.stderr).toBe(0)
    expect(r.json?.counts).toMatchObject({ generated: SPECS, failed: 0 })
    expect(fake.creates).toBe(SPECS)
    await expectAllStored()
  })
})
