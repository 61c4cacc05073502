import { readdir } from 'node:fs/promises'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import type { CliResult, TempProject } from '../helpers/project.js'
import { sharedBucketRig, startTestS3, type SharedBucketRig, type TestS3 } from '../helpers/s3.js'
import { waitFor } from '../helpers/wait.js'

// One bad answer from the bucket never turns into a payment, and no answer (or an endless one) never
// turns into a hang. Machine A fills the bucket; machine B (its own store) builds while the proxy in
// front of the bucket misbehaves at exact requests. Creates are counted at the fake Together server.

const API_KEY = 'tg-remote-faults-4b8e2a61d9c07f35'

let fake: FakeTogether
let s3: TestS3
let rig: SharedBucketRig

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 100 })
})
afterAll(async () => {
  await fake?.close()
})
afterEach(async () => {
  await rig.dispose()
  fake.reset()
})

interface BuildJson {
  counts: Record<'generated' | 'cached' | 'failed', number>
  specs: Array<{ status: string; key: string; error?: { code?: string; message: string } }>
}
const parsed = (r: CliResult): BuildJson => JSON.parse(r.stdout) as BuildJson
const duplicates = () => [...fake.createsByBody.values()].filter((n) => n > 1).length

/** Machine A builds `specs` clips into the bucket; the keys. */
async function filled(specs: number): Promise<string[]> {
  const a = await rig.machine(specs)
  const r = await rig.cli(a, ['build', '--json']).done
  expect(r.code, r.stderr).toBe(0)
  expect(fake.creates).toBe(specs)
  return parsed(r).specs.map((s) => s.key)
}

async function timed(p: Promise<CliResult>): Promise<CliResult & { ms: number }> {
  const started = Date.now()
  const r = await p
  return { ...r, ms: Date.now() - started }
}

function expectUncertain(r: CliResult, specs: number): void {
  expect(r.code, r.stderr).toBe(1)
  const out = parsed(r)
  expect(out.counts).toMatchObject({ generated: 0, failed: specs })
  for (const s of out.specs) expect(s.error?.code, s.error?.message).toBe('REMOTE_UNCERTAIN')
  // Not the documented "remote down" fallback: nothing switched to local-only.
  expect(r.stderr).not.toMatch(/remote cache unavailable/)
}

async function tmpFiles(p: TempProject): Promise<string[]> {
  return readdir(p.path('.vidspec', 'tmp')).catch(() => [])
}

describe('remote reads under faults (machine A fills the bucket once; no test here changes it)', () => {
  beforeAll(async () => {
    s3 = await startTestS3()
    rig = sharedBucketRig(s3, fake, API_KEY)
    await filled(3)
    await rig.dispose()
    fake.reset()
  }, 300_000)
  afterAll(async () => {
    await s3?.close()
  })
  afterEach(() => {
    s3.clearFaults()
    s3.fired.length = 0
  })

  it('one cut connection and two 503s on entry GETs: retried, every clip fetched, nothing paid, not local-only', async () => {
    const b = await rig.machine(3)
    s3.fault({ method: 'GET', key: 'entries/', kind: 'cut' })
    s3.fault({ method: 'GET', key: 'entries/', kind: 'status', status: 503, times: 2 })
    const r = await rig.cli(b, ['build', '--json']).done
    expect(r.code, r.stderr).toBe(0)
    expect(parsed(r).counts).toMatchObject({ cached: 3, generated: 0 })
    expect(s3.fired.map((f) => f.kind)).toEqual(['cut', 'status', 'status'])
    expect(r.stderr).not.toMatch(/remote cache unavailable/)
    expect(fake.creates).toBe(0)
  })

  it('entry GETs cut every time: each key is uncertain, not generated; exit 1 and no create', async () => {
    const b = await rig.machine(3)
    s3.fault({ method: 'GET', key: 'entries/', kind: 'cut', times: Infinity })
    const r = await rig.cli(b, ['build', '--json']).done
    expectUncertain(r, 3)
    expect(fake.creates).toBe(0)
    expect(duplicates()).toBe(0)
  })

  it('an object GET whose body never ends stops at the entry\'s size: bounded bytes, no temp file left, not generated', async () => {
    const b = await rig.machine(3)
    s3.fault({ method: 'GET', key: 'objects/', kind: 'endless', times: Infinity })
    const r = await timed(rig.cli(b, ['build', '--json']).done)
    expectUncertain(r, 3)
    expect(r.ms).toBeLessThan(20_000)
    const attempts = s3.fired.length
    expect(attempts).toBeGreaterThan(0)
    // Each attempt stops within a chunk or two past the clip's size (a few tens of KB), never GBs.
    expect(s3.endlessBytes()).toBeLessThan(attempts * 8 * 64 * 1024)
    expect(await tmpFiles(b)).toEqual([])
    expect(fake.creates).toBe(0)
  })

  it('a dripping entry body is cut at the request timeout and retried; the third answer is whole: fetched, nothing paid', async () => {
    const b = await rig.machine(3, { remote: { requestTimeoutMs: 2_500 } })
    s3.fault({ method: 'GET', key: 'entries/', kind: 'drip', everyMs: 200, times: 2 })
    const r = await rig.cli(b, ['build', '--json']).done
    expect(r.code, r.stderr).toBe(0)
    expect(parsed(r).counts).toMatchObject({ cached: 3 })
    expect(s3.fired.map((f) => f.kind)).toEqual(['drip', 'drip'])
    expect(fake.creates).toBe(0)
  })

  it('a remote that accepts connections and never answers: plan and build end on their own, nothing is paid', async () => {
    const b = await rig.machine(3, { remote: { requestTimeoutMs: 300 } })
    s3.fault({ kind: 'silent', times: Infinity })
    const plan = await timed(rig.cli(b, ['plan', '--json']).done)
    expect(plan.code, plan.stderr).toBe(0)
    expect(plan.ms).toBeLessThan(20_000)
    const build = await timed(rig.cli(b, ['build', '--json']).done)
    expectUncertain(build, 3)
    expect(build.ms).toBeLessThan(30_000)
    expect(fake.creates).toBe(0)
  })
})

describe('remote writes and claims under faults (a bucket per test)', () => {
  beforeEach(async () => {
    s3 = await startTestS3()
    rig = sharedBucketRig(s3, fake, API_KEY)
  })
  afterEach(async () => {
    await s3?.close()
  })

  it('an entry that does not parse is known-bad: one machine replaces it (over that version), the next is served', async () => {
    const [key] = await filled(1)
    await s3.put(`entries/${key}.json`, '{"version":1, "key": truncated')
    const b = await rig.machine(1)
    const repaired = await rig.cli(b, ['build', '--json']).done
    expect(repaired.code, repaired.stderr).toBe(0)
    expect(repaired.stderr).toMatch(/its remote entry is malformed/)
    expect(JSON.parse(await s3.getText(`entries/${key}.json`))).toMatchObject({ key })
    const c = await rig.machine(1)
    const served = await rig.cli(c, ['build', '--json'], { CI: 'true' }).done
    expect(served.code, served.stderr).toBe(0)
    expect(parsed(served).counts).toMatchObject({ cached: 1 })
    // A's clip and B's replacement; every later machine is served.
    expect(fake.creates).toBe(2)
  })

  it('SIGTERM stops a build within 2 s while the remote is silent, and while it waits for another machine\'s claim', async () => {
    const b = await rig.machine(1, { remote: { requestTimeoutMs: 60_000 } })
    s3.fault({ kind: 'silent', times: Infinity })
    const hung = rig.cli(b, ['build', '--json'])
    await waitFor('a request to go unanswered', () => s3.fired.length > 0)
    const t0 = Date.now()
    hung.child.kill('SIGTERM')
    const r1 = await hung.done
    expect(Date.now() - t0).toBeLessThan(2_000)
    expect(r1.code).toBe(130)

    s3.clearFaults()
    fake.fault({ kind: 'job-never-finishes' })
    const c = await rig.machine(2)
    const d = await rig.machine(2)
    const owner = rig.cli(c, ['build', '--json'])
    await waitFor('the owner to create its jobs', () => fake.creates === 2, 60_000)
    const waiter = rig.cli(d, ['build', '--json'])
    await waitFor('the second machine to wait', () => waiter.output().stderr.includes('another machine is generating it'), 60_000)
    const t1 = Date.now()
    waiter.child.kill('SIGTERM')
    const r2 = await waiter.done
    expect(Date.now() - t1).toBeLessThan(2_000)
    expect(r2.code).toBe(130)
    owner.child.kill('SIGTERM')
    await owner.done
    expect(fake.creates).toBe(2)
  })

  it('a stale claim whose reads answer a wrong ETag, or none: never taken over, the loop ends, nothing paid', async () => {
    const b = await rig.machine(1)
    const planned = await rig.cli(b, ['plan', '--json']).done
    const key = (JSON.parse(planned.stdout) as { specs: Array<{ key: string }> }).specs[0]?.key
    const dead = { version: 1, key, spec: 'clip-0.video.ts', owner: 'dead:1:ff', at: new Date().toISOString() }
    for (const etag of ['"00000000000000000000000000000bad"', null]) {
      await s3.put(`claims/${key}.json`, JSON.stringify(dead))
      s3.fault({ key: 'claims/', kind: 'headers', times: Infinity, set: { 'last-modified': new Date(Date.now() - 3_600_000).toUTCString(), etag } })
      const r = await timed(rig.cli(b, ['build', '--json']).done)
      expectUncertain(r, 1)
      expect(r.ms).toBeLessThan(20_000)
      expect(JSON.parse(await s3.getText(`claims/${key}.json`))).toMatchObject({ owner: 'dead:1:ff' })
      s3.clearFaults()
    }
    expect(fake.creates).toBe(0)
  })
})
