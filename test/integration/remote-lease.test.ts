import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import type { CliResult } from '../helpers/project.js'
import { TEST_LEASE, sharedBucketRig, startTestS3, type SharedBucketRig, type TestS3 } from '../helpers/s3.js'
import { storeShape } from '../helpers/together.js'
import { until, waitFor } from '../helpers/wait.js'

// A claim is a lease: its owner rewrites it while it works, and it is stale only when that heartbeat is
// old by the bucket's clock. Machines are separate project copies (separate stores) on one bucket; the
// fake's jobs never finish until a test finishes them, so every moment here is chosen, not waited for.

const API_KEY = 'tg-remote-lease-7d2e91c4b05a3f68'

let fake: FakeTogether
let s3: TestS3
let rig: SharedBucketRig

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 100 })
})
afterAll(async () => {
  await fake?.close()
})
beforeEach(async () => {
  s3 = await startTestS3()
  rig = sharedBucketRig(s3, fake, API_KEY)
})
afterEach(async () => {
  await rig.dispose()
  await s3?.close()
  fake.reset()
})

interface BuildJson {
  counts: Record<'generated' | 'cached' | 'failed', number>
  specs: Array<{ status: string; error?: { code?: string; message: string } }>
}
const parsed = (r: CliResult): BuildJson => JSON.parse(r.stdout) as BuildJson

/** Lets the fake's only job finish now (it was created with job-never-finishes). */
function finishJobs(): void {
  for (const job of fake.jobs) {
    job.outcome = 'completed'
    job.durationMs = 0
  }
}

async function claimRecord(): Promise<{ owner: string; beat?: number; kept?: boolean; job?: { jobId: string } } | undefined> {
  const key = (await s3.keys()).find((k) => k.startsWith('claims/'))
  return key ? JSON.parse(await s3.getText(key)) : undefined
}

const duplicates = () => [...fake.createsByBody.values()].filter((n) => n > 1).length

describe('remote claims are leases', () => {
  it('a live owner whose job takes many times the waiter\'s jobTimeoutMs (and several stale margins) is never taken over; the waiter gets its clip without paying', async () => {
    fake.fault({ kind: 'job-never-finishes' })
    const a = await rig.machine(1)
    // The waiter's own job timeout is a small fraction of the job: how long it waited is no reason to take over.
    const b = await rig.machine(1, { jobs: { jobTimeoutMs: 500 } })
    const owner = rig.cli(a, ['build', '--json'])
    await waitFor('the owner to create its job', () => fake.creates === 1, 60_000)
    const waiter = rig.cli(b, ['build', '--json'])
    await waitFor('the second machine to wait', () => waiter.output().stderr.includes('another machine is generating it'), 60_000)
    const firstBeat = (await claimRecord())?.beat ?? 0
    // The one thing under test is time passing: well over two stale margins of it, with the owner alive.
    const later = Date.now() + 2.5 * TEST_LEASE.staleMs
    await until('stale margins to pass', () => Date.now() > later, 3 * TEST_LEASE.staleMs + 5_000, 100)
    expect((await claimRecord())?.beat ?? 0).toBeGreaterThan(firstBeat + 5)
    finishJobs()
    const [ra, rb] = await Promise.all([owner.done, waiter.done])
    expect(ra.code, ra.stderr).toBe(0)
    expect(rb.code, rb.stderr).toBe(0)
    expect(parsed(rb).counts).toMatchObject({ cached: 1, generated: 0 })
    expect(`${ra.stderr}${rb.stderr}`).not.toMatch(/took over/)
    expect(fake.creates).toBe(1)
    expect(await claimRecord()).toBeUndefined()
  })

  it('a job that outlives jobTimeoutMs keeps its claim for that machine: another never takes it over, even past the stale margin; the owner resumes it', async () => {
    fake.fault({ kind: 'job-never-finishes' })
    const a = await rig.machine(1, { jobs: { jobTimeoutMs: 600 } })
    const b = await rig.machine(1)
    const timedOut = await rig.cli(a, ['build', '--json']).done
    expect(timedOut.code, timedOut.stderr).toBe(1)
    expect((await storeShape(a.path('.vidspec'))).journals).toHaveLength(1)
    expect(await claimRecord()).toMatchObject({ kept: true, job: { jobId: fake.jobs[0]?.id } })

    // Old enough by the bucket's clock to be stale, if age were what counted for a kept claim.
    const stale = Date.now() + TEST_LEASE.staleMs + 1_200
    await until('the kept claim to be older than the stale margin', () => Date.now() > stale, TEST_LEASE.staleMs + 5_000, 100)
    const other = await rig.cli(b, ['build', '--json']).done
    expect(other.code, other.stderr).toBe(1)
    expect(parsed(other).specs[0]?.error).toMatchObject({ code: 'REMOTE_UNCERTAIN', message: expect.stringMatching(/kept by another machine/) })
    expect(fake.creates).toBe(1)

    finishJobs()
    const resumed = await rig.cli(a, ['build', '--json']).done
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stderr).toMatch(/job:resumed/)
    expect(await claimRecord()).toBeUndefined()
    const later = await rig.cli(b, ['build', '--json']).done
    expect(later.code, later.stderr).toBe(0)
    expect(parsed(later).counts).toMatchObject({ cached: 1 })
    expect(fake.creates).toBe(1)
  })

  it('a create whose answer never came keeps the claim for its machine: another machine is refused, that machine resolves it with --retry-uncertain', async () => {
    fake.fault({ kind: 'drop-after-create' })
    const a = await rig.machine(1)
    const b = await rig.machine(1)
    const lost = await rig.cli(a, ['build', '--json']).done
    expect(lost.code, lost.stderr).toBe(1)
    expect(await claimRecord()).toMatchObject({ kept: true })
    const other = await rig.cli(b, ['build', '--json']).done
    expect(parsed(other).specs[0]?.error).toMatchObject({ code: 'REMOTE_UNCERTAIN', message: expect.stringMatching(/kept by another machine/) })
    expect(fake.creates).toBe(1)
    // A person checked the dashboard and said so: only then a second create, from the machine that kept it.
    const retried = await rig.cli(a, ['build', '--json', '--retry-uncertain']).done
    expect(retried.code, retried.stderr).toBe(0)
    expect(fake.creates).toBe(2)
    expect(await claimRecord()).toBeUndefined()
    const later = await rig.cli(b, ['build', '--json']).done
    expect(parsed(later).counts).toMatchObject({ cached: 1 })
    expect(fake.creates).toBe(2)
  })

  it('a killed owner is taken over exactly once, by exactly one of two survivors, which resumes its paid job: one create', async () => {
    fake.fault({ kind: 'job-never-finishes' })
    const [a, b, c] = await Promise.all([rig.machine(1), rig.machine(1), rig.machine(1)])
    const owner = rig.cli(a, ['build', '--json'])
    await waitFor('the owner to create its job', () => fake.creates === 1, 60_000)
    // Its heartbeat carries the job id into the claim: what a survivor resumes.
    await until('the claim to name the job', async () => (await claimRecord())?.job?.jobId === fake.jobs[0]?.id, 60_000)
    const survivors = [rig.cli(b, ['build', '--json']), rig.cli(c, ['build', '--json'])]
    await waitFor('both survivors to wait', () => survivors.every((s) => s.output().stderr.includes('another machine is generating it')), 60_000)
    owner.child.kill('SIGKILL')
    await owner.done
    finishJobs()
    const results = await Promise.all(survivors.map((s) => s.done))
    for (const r of results) expect(r.code, r.stderr).toBe(0)
    const stderr = results.map((r) => r.stderr).join('\n')
    expect(stderr.match(/took over a stale remote claim/g)).toHaveLength(1)
    expect(stderr.match(/resuming the paid job/g)).toHaveLength(1)
    expect(fake.creates).toBe(1)
    expect(duplicates()).toBe(0)
    expect(results.map((r) => parsed(r).counts.cached).sort()).toEqual([0, 1])
    expect(await claimRecord()).toBeUndefined()
  })
})
