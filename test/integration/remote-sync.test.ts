import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { runCli, type CliResult, type TempProject } from '../helpers/project.js'
import { startTestS3, type TestS3 } from '../helpers/s3.js'
import { FAST, storeShape, togetherProject } from '../helpers/together.js'

// `vidspec push` / `pull` sync a local cache with the bucket: for a cache built before the team had
// a remote, or a machine that wants its clips before building.

const API_KEY = 'tg-remote-sync-0e8b4d2f6a1c9753'

let fake: FakeTogether
let s3: TestS3
const projects: TempProject[] = []

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 100 })
})
afterAll(async () => {
  await fake?.close()
})
beforeEach(async () => {
  s3 = await startTestS3()
})
afterEach(async () => {
  await Promise.all(projects.splice(0).map((p) => p.dispose()))
  await s3?.close()
  fake.reset()
})

async function project(specs: number): Promise<TempProject> {
  const config = { ...FAST, remote: { s3: { bucket: s3.bucket, prefix: 'site', endpoint: s3.endpoint } } }
  const p = await togetherProject(specs, config)
  projects.push(p)
  return p
}

function cli(p: TempProject, args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runCli(args, {
    cwd: p.root,
    env: { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: undefined, ...s3.env, ...env },
    timeoutMs: 30_000,
  })
}

const json = <T>(r: CliResult): T => {
  expect(r.stdout, r.stderr).not.toBe('')
  return JSON.parse(r.stdout) as T
}

describe('vidspec push / pull', () => {
  it('push uploads what the bucket lacks (dry-run first); pull fetches it into another cache, verified', async () => {
    const a = await project(2)
    const built = await cli(a, ['build'], { VIDSPEC_REMOTE_MODE: 'off' })
    expect(built.code, built.stderr).toBe(0)
    expect(await s3.keys()).toEqual([])

    const dry = await cli(a, ['push', '--dry-run', '--json'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(json<{ pushed: unknown[] }>(dry).pushed).toHaveLength(2)
    expect(await s3.keys()).toEqual([])

    const pushed = await cli(a, ['push', '--json'])
    expect(pushed.code, pushed.stderr).toBe(0)
    expect(json<{ pushed: unknown[]; present: number }>(pushed)).toMatchObject({ present: 0 })
    const keys = await s3.keys()
    expect(keys.filter((k) => k.startsWith('site/entries/'))).toHaveLength(2)
    expect(keys.filter((k) => k.startsWith('site/objects/')).length).toBeGreaterThanOrEqual(1)
    expect(json<{ pushed: unknown[]; present: number }>(await cli(a, ['push', '--json']))).toMatchObject({ pushed: [], present: 2 })

    const b = await project(2)
    const peek = await cli(b, ['pull', '--dry-run', '--json'])
    expect(json<{ fetched: unknown[] }>(peek).fetched).toHaveLength(2)
    expect((await storeShape(b.path('.vidspec'))).entries).toEqual([])

    const pulled = await cli(b, ['pull', '--json'], { VIDSPEC_REMOTE_MODE: 'read-only' })
    expect(pulled.code, pulled.stderr).toBe(0)
    expect(json<{ fetched: unknown[]; rejected: unknown[] }>(pulled)).toMatchObject({ rejected: [] })
    expect(json<{ fetched: unknown[] }>(pulled).fetched).toHaveLength(2)
    expect((await storeShape(b.path('.vidspec'))).entries).toHaveLength(2)

    const frozen = await cli(b, ['build', '--json'], { CI: 'true', VIDSPEC_REMOTE_MODE: 'off' })
    expect(frozen.code, frozen.stderr).toBe(0)
    expect(fake.creates).toBe(2)
  })

  it('pull takes the clips of current specs; pull --all every clip in the bucket', async () => {
    const a = await project(3)
    expect((await cli(a, ['build'])).code).toBe(0)
    const b = await project(1)
    const current = await cli(b, ['pull', '--json'])
    expect(current.code, current.stderr).toBe(0)
    expect(json<{ fetched: unknown[] }>(current).fetched).toHaveLength(1)
    expect((await storeShape(b.path('.vidspec'))).entries).toHaveLength(1)
    const all = await cli(b, ['pull', '--all', '--json'])
    expect(all.code, all.stderr).toBe(0)
    expect(json<{ fetched: unknown[] }>(all).fetched).toHaveLength(2)
    expect((await storeShape(b.path('.vidspec'))).entries).toHaveLength(3)
    expect(fake.creates).toBe(3)
  })

  it('push refuses a read-only remote, push/pull refuse a missing one (exit 2), --help exits 0', async () => {
    const p = await project(1)
    const ro = await cli(p, ['push'], { VIDSPEC_REMOTE_MODE: 'read-only' })
    expect(ro.code, ro.stderr).toBe(2)
    expect(ro.stderr).toMatch(/read-only/)
    for (const cmd of ['push', 'pull']) {
      const off = await cli(p, [cmd], { VIDSPEC_REMOTE_MODE: 'off' })
      expect(off.code, off.stderr).toBe(2)
      expect(off.stderr).toMatch(/no remote cache is in use/)
      const help = await cli(p, [cmd, '--help'])
      expect(help.code).toBe(0)
      expect(help.stdout).toMatch(/--dry-run/)
    }
    expect(s3.requests).toEqual([])
  })

  it('a credential in the config is refused without echoing it (exit 2)', async () => {
    const p = await project(1)
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
    await p.write(
      'vidspec.config.ts',
      `export default ${JSON.stringify({ ...FAST, remote: { s3: { bucket: s3.bucket, secretAccessKey: secret } } })}\n`,
    )
    const r = await cli(p, ['build'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/remote\.s3\.secretAccessKey/)
    expect(r.stderr).toMatch(/AWS_ACCESS_KEY_ID/)
    expect(`${r.stdout}${r.stderr}`).not.toContain(secret)
  })
})
