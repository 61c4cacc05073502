import { readFile, rm } from 'node:fs/promises'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Store } from '@vidspec/core/internal'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { runCli, type CliResult, type TempProject } from '../helpers/project.js'
import { startTestS3, type TestS3 } from '../helpers/s3.js'
import { FAST, spawnCli, storeShape, togetherProject, type CliChild } from '../helpers/together.js'
import { waitFor } from '../helpers/wait.js'

// A team's machines share one bucket: a clip paid for once is fetched everywhere else, verified
// before it is used, never written by read-only CI, and a down remote never fails a build.

const API_KEY = 'tg-remote-cache-5c1f09d2a7e3b846'
const JOB_MS = 150

let fake: FakeTogether
let s3: TestS3
const projects: TempProject[] = []
const children: CliChild[] = []

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: JOB_MS })
})
afterAll(async () => {
  await fake?.close()
})
beforeEach(async () => {
  s3 = await startTestS3()
})
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.stop()))
  await Promise.all(projects.splice(0).map((p) => p.dispose()))
  await s3?.close()
  fake.reset()
  fake.options.jobDurationMs = JOB_MS
})

function remoteConfig(extra: object = {}): object {
  return { ...FAST, remote: { s3: { bucket: s3.bucket, endpoint: s3.endpoint, forcePathStyle: true }, ...extra } }
}

async function project(specs: number, config = remoteConfig()): Promise<TempProject> {
  const p = await togetherProject(specs, config)
  projects.push(p)
  return p
}

/** `vidspec build --json` in `p`; paid generation allowed unless `env.CI` says otherwise. */
function build(p: TempProject, args: string[] = [], env: Record<string, string | undefined> = {}): CliChild {
  const child = spawnCli(['build', '--json', ...args], {
    cwd: p.root,
    env: { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: undefined, ...s3.env, ...env },
  })
  children.push(child)
  return child
}

type Counts = Record<'generated' | 'cached' | 'failed' | 'invalid' | 'blocked', number>
interface BuildJson {
  counts: Counts
  specs: Array<{ spec: string; status: string; key: string; object?: string }>
}

function parsed(r: CliResult): BuildJson {
  expect(r.stdout, r.stderr).not.toBe('')
  return JSON.parse(r.stdout) as BuildJson
}

async function soundLocal(p: TempProject): Promise<string[]> {
  const report = await new Store(p.path('.vidspec')).verify({ repair: false })
  expect([...report.corrupt, ...report.missing, ...report.orphans]).toEqual([])
  return (await storeShape(p.path('.vidspec'))).entries
}

describe('remote cache on S3', () => {
  it('write-back after a generation, then read-through on another machine: --frozen passes with zero creates', async () => {
    const a = await project(2)
    const first = await build(a).done
    expect(first.code, first.stderr).toBe(0)
    expect(parsed(first).counts).toMatchObject({ generated: 2 })
    expect(fake.creates).toBe(2)

    const keys = parsed(first).specs.map((s) => s.key).sort()
    const objects = parsed(first).specs.map((s) => `objects/${s.object}`)
    // Exactly the local layout, and no claim left behind.
    expect(await s3.keys()).toEqual([...keys.map((k) => `entries/${k}.json`), ...new Set(objects)].sort())

    // Another checkout, empty cache, CI (so --frozen): the remote hit is not a miss.
    const b = await project(2)
    const second = await build(b, [], { CI: 'true' }).done
    expect(second.code, second.stderr).toBe(0)
    expect(parsed(second).counts).toMatchObject({ cached: 2, generated: 0, blocked: 0 })
    expect(fake.creates).toBe(2)
    expect(second.stderr).toMatch(/fetched from the remote cache/)
    expect((await soundLocal(b)).sort()).toEqual(keys.map((k) => `${k}.json`))
    for (const s of parsed(first).specs) {
      expect(await readFile(b.path('.vidspec/objects', s.object ?? ''))).toEqual(await readFile(a.path('.vidspec/objects', s.object ?? '')))
    }
  })

  it('a remote object whose bytes do not match its digest is rejected, never committed, regenerated and repaired', async () => {
    const a = await project(1)
    const first = await build(a).done
    expect(first.code, first.stderr).toBe(0)
    const [spec] = parsed(first).specs
    const objectKey = `objects/${spec?.object}`
    const bytes = Buffer.from(await readFile(a.path('.vidspec', objectKey)))
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff
    await s3.put(objectKey, bytes)

    const b = await project(1)
    const frozen = await build(b, [], { CI: 'true' }).done
    expect(frozen.code, frozen.stderr).toBe(3)
    expect(frozen.stderr).toMatch(/do not match its entry/)
    expect(await soundLocal(b)).toEqual([])

    const second = await build(b).done
    expect(second.code, second.stderr).toBe(0)
    expect(parsed(second).counts).toMatchObject({ generated: 1 })
    expect(fake.creates).toBe(2)
    expect(await soundLocal(b)).toHaveLength(1)

    // The regenerated clip replaced the damaged one in the bucket: the next machine is served again.
    const c = await project(1)
    const third = await build(c, [], { CI: 'true' }).done
    expect(third.code, third.stderr).toBe(0)
    expect(parsed(third).counts).toMatchObject({ cached: 1 })
    expect(fake.creates).toBe(2)
  })

  it('read-only (VIDSPEC_REMOTE_MODE) fetches but writes nothing: no object, entry or claim', async () => {
    const p = await project(2)
    const r = await build(p, [], { VIDSPEC_REMOTE_MODE: 'read-only' }).done
    expect(r.code, r.stderr).toBe(0)
    expect(parsed(r).counts).toMatchObject({ generated: 2 })
    expect(await s3.keys()).toEqual([])
    expect(s3.requests.filter((q) => q.method !== 'GET' && q.method !== 'HEAD')).toEqual([])
    expect(s3.requests.length).toBeGreaterThan(0)
  })

  it('two machines (two local caches) sharing one bucket create each key once', async () => {
    fake.options.jobDurationMs = 1_200
    const specs = 4
    const a = await project(specs)
    const b = await project(specs)
    const [ra, rb] = await Promise.all([build(a).done, build(b).done])
    expect(ra.code, ra.stderr).toBe(0)
    expect(rb.code, rb.stderr).toBe(0)
    expect(fake.creates).toBe(specs)
    expect([...fake.createsByPrompt.values()]).toEqual(Array(specs).fill(1))
    const ca = parsed(ra).counts
    const cb = parsed(rb).counts
    expect(ca.generated + cb.generated).toBe(specs)
    expect(ca.cached + cb.cached).toBe(specs)
    expect(`${ra.stderr}${rb.stderr}`).toMatch(/another machine is generating it/)
    expect(await soundLocal(a)).toHaveLength(specs)
    expect(await soundLocal(b)).toHaveLength(specs)
    expect((await s3.keys()).filter((k) => k.startsWith('claims/'))).toEqual([])
  })

  it('sharded builds (--shard i/3) cover every spec exactly once; bad shards are usage errors', async () => {
    const p = await project(7)
    const seen: string[] = []
    for (const i of [1, 2, 3]) {
      const r = await build(p, ['--shard', `${i}/3`]).done
      expect(r.code, r.stderr).toBe(0)
      const out = parsed(r)
      expect(out.counts.generated).toBe(out.specs.length)
      seen.push(...out.specs.map((s) => s.spec))
    }
    expect(seen.sort()).toEqual(Array.from({ length: 7 }, (_, i) => `clip-${i}.video.ts`).sort())
    expect(fake.creates).toBe(7)
    for (const bad of ['0/3', '4/3', '1/0', 'x', '1/3/1', '1.5/3']) {
      const r = await build(p, ['--shard', bad]).done
      expect(r.code, `${bad}: ${r.stderr}`).toBe(2)
      expect(r.stderr).toMatch(/--shard/)
    }
  })

  it('the remote going down mid-build: one warning, a local build, exit 0; --frozen then exits 3 naming it', async () => {
    fake.options.jobDurationMs = 800
    const p = await project(3)
    const child = build(p)
    await waitFor('every job to be created', () => fake.creates === 3)
    await s3.goDown()
    const r = await child.done
    expect(r.code, r.stderr).toBe(0)
    expect(parsed(r).counts).toMatchObject({ generated: 3, failed: 0 })
    expect(r.stderr.match(/remote cache unavailable/g)).toHaveLength(1)
    expect(await soundLocal(p)).toHaveLength(3)

    const other = await project(3)
    const frozen = await build(other, [], { CI: 'true' }).done
    expect(frozen.code, frozen.stderr).toBe(3)
    expect(frozen.stderr).toMatch(/remote cache could not be used/)
    expect(fake.creates).toBe(3)
  })

  it('plan and status on another machine see what the bucket holds; --shard says which part it took; offline builds leave the remote alone', async () => {
    const a = await project(2)
    expect((await build(a).done).code).toBe(0)
    const b = await project(2)
    const env = { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, ...s3.env }
    const plan = await runCli(['plan', '--json'], { cwd: b.root, env })
    expect(plan.code, plan.stderr).toBe(0)
    const specs = (JSON.parse(plan.stdout) as { specs: Array<{ status: string; remote?: boolean }> }).specs
    expect(specs.map((x) => [x.status, x.remote])).toEqual([
      ['cached', true],
      ['cached', true],
    ])
    expect((await runCli(['plan'], { cwd: b.root, env })).stdout).toMatch(/^cached\s+clip-0\.video\.ts \(remote\)$/m)
    const status = JSON.parse((await runCli(['status', '--json'], { cwd: b.root, env })).stdout) as { remote: { mode: string; bucket: string } }
    expect(status.remote).toMatchObject({ mode: 'read-write', bucket: s3.bucket })

    const shard = await build(b, ['--shard', '1/2']).done
    expect(shard.code, shard.stderr).toBe(0)
    const shardJson = JSON.parse(shard.stdout) as { shard: { index: number; count: number; specs: number; of: number } }
    expect(shardJson.shard).toMatchObject({ index: 1, count: 2, of: 2 })
    expect(fake.creates).toBe(2)

    // Previews are never shared: an offline build neither asks a (down) remote nor warns about it.
    await s3.goDown()
    const offline = await build(b, ['--provider', 'offline']).done
    expect(offline.code, offline.stderr).toBe(0)
    expect(offline.stderr).not.toMatch(/remote/)
  })

  it('the lockfile round-trip through the shared cache: build, lose the local cache, --frozen restores the approved clips', async () => {
    const p = await project(2)
    expect((await build(p).done).code).toBe(0)
    const lock = await readFile(p.path('vidspec.lock.json'), 'utf8')
    await rm(p.path('.vidspec'), { recursive: true, force: true })
    const again = await build(p, [], { CI: 'true' }).done
    expect(again.code, again.stderr).toBe(0)
    expect(parsed(again).counts).toMatchObject({ cached: 2, generated: 0 })
    expect(fake.creates).toBe(2)
    // The same approved clips, byte for byte: the lockfile did not move.
    expect(await readFile(p.path('vidspec.lock.json'), 'utf8')).toBe(lock)
    expect(await soundLocal(p)).toHaveLength(2)
  })
})
