import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { runCli, type TempProject } from '../helpers/project.js'
import { cliBuild, duplicateCreates, expectValidClips, lostJobIds } from '../helpers/pay-once.js'
import { FAST, journals, spawnCli, togetherProject } from '../helpers/together.js'
import { waitFor } from '../helpers/wait.js'

// Paid jobs are journaled while they run. One run pointed at the wrong place (another base URL,
// another account's key) gets "no such job" answers: the journals must survive it, the message must
// say where the jobs were made, and the next correct run resumes every one with 0 new creates. Only
// `vidspec forget` removes a journal, and only the one it is asked to.

const KEY_A = 'tg-pay-once-journal-a-6b1d0e7c93f2a584'
const KEY_B = 'tg-pay-once-journal-b-0f9a2c4e71d6b853'
const SPECS = 2

let fake: FakeTogether
/** Another account's API: it accepts KEY_B and knows none of fake's jobs. */
let other: FakeTogether
let project: TempProject | undefined

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: KEY_A })
  other = await startFakeTogether({ apiKey: KEY_B })
})
afterAll(async () => {
  await fake?.close()
  await other?.close()
})
afterEach(async () => {
  await project?.dispose()
  project = undefined
  fake.reset()
  other.reset()
  fake.options.jobDurationMs = 300
})

const envA = () => ({ TOGETHER_API_KEY: KEY_A, TOGETHER_BASE_URL: fake.baseURL })
const storeDir = () => join(project?.root ?? '', '.vidspec')

/** A project whose SPECS jobs are created and journaled, still running (the build gave up waiting). */
async function journaledProject(): Promise<string[]> {
  fake.options.jobDurationMs = 600_000
  project = await togetherProject(SPECS, { ...FAST, jobs: { ...FAST.jobs, jobTimeoutMs: 150 } })
  const r = await cliBuild(project.root, envA())
  expect(Object.values(r.codes), r.stderr).toEqual(Array(SPECS).fill('JOB_TIMEOUT'))
  const ids = (await journals(storeDir())).map((j) => j.jobId).sort()
  expect(ids).toEqual(fake.jobs.map((j) => j.id).sort())
  return ids
}

describe('a run with the wrong base URL or key while paid jobs are journaled', () => {
  it('keeps every journal and says where the jobs were made; the next correct run resumes them with 0 creates', async () => {
    const ids = await journaledProject()

    const elsewhere = await cliBuild(project?.root ?? '', { TOGETHER_API_KEY: KEY_B, TOGETHER_BASE_URL: other.baseURL })
    expect(elsewhere.code).toBe(1)
    expect(Object.values(elsewhere.codes)).toEqual(Array(SPECS).fill('JOB_UNKNOWN'))
    for (const s of elsewhere.json?.specs ?? []) {
      expect(s.error?.message).toMatch(/is not known to this key or base URL; it was created with/)
      expect(s.error?.message).toContain(fake.baseURL)
      expect(s.error?.message).toContain(other.baseURL)
      expect(s.error?.message).toMatch(/vidspec forget/)
      expect(s.error?.message).not.toContain(KEY_A)
      expect(s.error?.message).not.toContain(KEY_B)
    }
    expect(other.requests.get('POST /videos') ?? 0).toBe(0)
    expect(fake.creates).toBe(SPECS)
    expect((await journals(storeDir())).map((j) => j.jobId).sort()).toEqual(ids)

    // The right base URL with another key: refused, journals kept too.
    const wrongKey = await cliBuild(project?.root ?? '', { ...envA(), TOGETHER_API_KEY: KEY_B })
    expect(Object.values(wrongKey.codes)).toEqual(Array(SPECS).fill('PROVIDER_AUTH'))
    expect((await journals(storeDir())).map((j) => j.jobId).sort()).toEqual(ids)

    // status lists them, with where they were made.
    const status = await runCli(['status', '--json'], { cwd: project?.root ?? '', env: envA() })
    const listed = (JSON.parse(status.stdout) as { inFlight: Array<{ jobId: string; baseURL: string }> }).inFlight
    expect(listed.map((j) => j.jobId).sort()).toEqual(ids)
    expect(listed.every((j) => j.baseURL === fake.baseURL)).toBe(true)

    for (const job of fake.jobs) job.durationMs = 0
    const resumed = await cliBuild(project?.root ?? '', envA())
    expect(resumed.json?.counts, resumed.stderr).toMatchObject({ generated: SPECS, failed: 0 })
    expect(fake.creates).toBe(SPECS)
    expect(duplicateCreates(fake)).toBe(0)
    expect((await expectValidClips(storeDir())).map((e) => e.jobId).sort()).toEqual(ids)
    expect(await lostJobIds(fake, storeDir())).toEqual([])
  })

  it('forget removes only the journal it names, and only when asked', async () => {
    const ids = await journaledProject()
    const root = project?.root ?? ''
    const before = await journals(storeDir())
    const clip1 = before.find((j) => j.spec === 'clip-1.video.ts')

    const none = await runCli(['forget', 'no-such.video.ts'], { cwd: root, env: envA() })
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/no journaled job matches.*nothing was removed/)
    const bare = await runCli(['forget'], { cwd: root, env: envA() })
    expect(bare.code).toBe(2)
    expect((await journals(storeDir())).map((j) => j.jobId).sort()).toEqual(ids)

    const bySpec = await runCli(['forget', 'clip-0.video.ts'], { cwd: root, env: envA() })
    expect(bySpec.code, bySpec.stderr).toBe(0)
    const clip0 = before.find((j) => j.spec === 'clip-0.video.ts')
    expect(bySpec.stdout).toContain(`job ${clip0?.jobId}`)
    expect((await journals(storeDir())).map((j) => j.spec)).toEqual(['clip-1.video.ts'])

    const byKey = await runCli(['forget', clip1?.key.slice(0, 12) ?? '?', '--json'], { cwd: root, env: envA() })
    expect(byKey.code, byKey.stderr).toBe(0)
    expect(JSON.parse(byKey.stdout)).toMatchObject({ spec: 'clip-1.video.ts', jobId: clip1?.jobId })
    expect(await journals(storeDir())).toEqual([])
  })
})

describe('a long poll', () => {
  it('never piles listeners on one signal (no MaxListenersExceededWarning over 60 polls)', async () => {
    // Node warns past 10 listeners on one signal; the job runs until the fake has seen 60 polls.
    fake.fault({ kind: 'job-never-finishes' })
    project = await togetherProject(1, { ...FAST, jobs: { ...FAST.jobs, pollIntervalMs: 1, maxPollIntervalMs: 1 } })
    const child = spawnCli(['build', '--json'], { cwd: project.root, env: { ...envA(), CI: undefined } })
    try {
      await waitFor('60 polls', () => {
        if (child.child.exitCode !== null) throw new Error(`vidspec exited early: ${child.output().stderr}`)
        return fake.polls >= 60
      })
      for (const job of fake.jobs) Object.assign(job, { outcome: 'completed', durationMs: 0 })
      const r = await child.done
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).not.toMatch(/MaxListenersExceededWarning|memory leak/i)
    } finally {
      await child.stop()
    }
  })
})

describe('an intent a stopped process left half-written', () => {
  // The intent is created in place: a process stopped between creating it and its fsync leaves it
  // empty or cut. Its create was never sent, so the key is not uncertain: one create, one clip.
  it('is no record: the next build creates each key once, and nothing is uncertain', async () => {
    project = await togetherProject(SPECS, FAST)
    const planned = await runCli(['plan', '--json'], { cwd: project.root, env: envA() })
    const keys = (JSON.parse(planned.stdout) as { specs: Array<{ key: string }> }).specs.map((s) => s.key)
    expect(keys).toHaveLength(SPECS)
    await mkdir(join(storeDir(), 'jobs'), { recursive: true })
    await writeFile(join(storeDir(), 'jobs', `${keys[0]}.json`), '')
    await writeFile(join(storeDir(), 'jobs', `${keys[1]}.json`), '{\n  "version": 1,\n  "key": "')

    const r = await cliBuild(project.root, envA())
    expect(r.code, r.stderr).toBe(0)
    expect(fake.creates).toBe(SPECS)
    expect(duplicateCreates(fake)).toBe(0)
    expect(await journals(storeDir())).toEqual([])
    expect((await expectValidClips(storeDir())).map((e) => e.key).sort()).toEqual([...keys].sort())
    const status = await runCli(['status', '--json'], { cwd: project.root, env: envA() })
    expect(JSON.parse(status.stdout)).toMatchObject({ inFlight: [], uncertain: [] })
  })
})

