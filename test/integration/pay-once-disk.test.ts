import { execFile } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { tempProject, type TempProject } from '../helpers/project.js'
import { cliBuild, duplicateCreates, expectValidClips, stopped } from '../helpers/pay-once.js'
import { FAST, journalFiles, spawnCli, togetherProject } from '../helpers/together.js'

// The journal cannot be written: the disk is full (ENOSPC) or the store is not writable (EACCES).
// Before the create, that means no request is sent. Between the create's answer and the journal
// write, the intent written before the request survives, so the next run sees an uncertain key and
// pays nothing. ENOSPC is real: the store is a small tmpfs, filled while the CLI is paused at the exact
// point (VIDSPEC_TEST_STOP_AT). EACCES is injected at the same points (VIDSPEC_TEST_FAIL_AT): as root,
// as these tests run, permission bits are not enforced.

const API_KEY = 'tg-pay-once-disk-c3a9e1750b2d4f86'
const run = promisify(execFile)

let fake: FakeTogether
let project: TempProject | undefined
let mounted: string | undefined

/** Mounting a tmpfs needs root (CAP_SYS_ADMIN); where it fails, the tmpfs tests say so and skip. */
async function canMountTmpfs(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'not Linux: no tmpfs'
  const probe = await tempProject()
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe.root])
    await run('umount', [probe.root])
    return undefined
  } catch (err) {
    return `mount -t tmpfs failed here (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`
  } finally {
    await probe.dispose()
  }
}
const noTmpfs = await canMountTmpfs()

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 40 })
})
afterAll(async () => {
  await fake?.close()
})
afterEach(async () => {
  if (mounted) await run('umount', ['-l', mounted]).catch(() => {})
  mounted = undefined
  await project?.dispose()
  project = undefined
  fake.reset()
})

const env = (extra: Record<string, string> = {}) => ({ TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: undefined, ...extra })
const posts = () => fake.requests.get('POST /videos') ?? 0
const storeDir = () => join(project?.root ?? '', '.vidspec')

/** A project whose store is a fresh 1 MB tmpfs. */
async function projectOnTmpfs(): Promise<TempProject> {
  project = await togetherProject(1)
  await mkdir(storeDir())
  await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', storeDir()])
  mounted = storeDir()
  return project
}

/** Fills the filesystem of `dir` until a write fails with ENOSPC. */
async function fill(dir: string): Promise<string> {
  const path = join(dir, 'filler')
  for (const size of [1 << 20, 1 << 16, 1 << 12, 1 << 8, 1]) {
    try {
      for (;;) await writeFile(path, Buffer.alloc(size), { flag: 'a' })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
    }
  }
  return path
}

/** Runs a build paused at `point`, fills the disk there, and lets it go on. */
async function buildWithDiskFullAt(point: string) {
  const child = spawnCli(['build', '--json'], { cwd: project?.root ?? '', env: env({ VIDSPEC_TEST_STOP_AT: point }) })
  try {
    await stopped(child.child.pid)
    const filler = await fill(storeDir())
    child.child.kill('SIGCONT')
    const r = await child.done
    await rm(filler)
    return r
  } finally {
    await child.stop()
  }
}

describe.skipIf(noTmpfs !== undefined)(`a full disk (tmpfs)${noTmpfs ? `: skipped, ${noTmpfs}` : ''}`, () => {
  it('full when the intent is written: the create is never sent; once there is room, one create', async () => {
    await projectOnTmpfs()
    const r = await buildWithDiskFullAt('before-intent')
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toMatch(/STORE_WRITE_FAILED|intent for the create could not be written/)
    expect(r.stderr).toMatch(/the disk is full/)
    expect(r.stderr).toMatch(/nothing was sent/)
    expect(posts()).toBe(0)
    expect(await journalFiles(storeDir())).toEqual([])

    const again = await cliBuild(project?.root ?? '', env())
    expect(again.json?.specs[0]?.status, again.stderr).toBe('generated')
    expect(fake.creates).toBe(1)
    expect(await expectValidClips(storeDir())).toHaveLength(1)
  })

  it('full between the create answer and the journal write: the intent survives, the next run pays nothing', async () => {
    await projectOnTmpfs()
    const r = await buildWithDiskFullAt('after-create-answer')
    expect(r.code, r.stderr).toBe(1)
    expect(fake.creates).toBe(1)
    const jobId = fake.jobs[0]?.id ?? '?'
    // The id that could not be journaled is shown, so it is not lost to the person either.
    expect(r.stdout).toContain(jobId)
    const [intent, ...more] = await journalFiles(storeDir())
    expect(more).toEqual([])
    expect(intent?.jobId).toBeUndefined()

    const again = await cliBuild(project?.root ?? '', env())
    expect(again.json?.specs[0]?.error?.code, again.stderr).toBe('PROVIDER_CREATE_UNCERTAIN')
    expect(posts()).toBe(1)
    expect(fake.creates).toBe(1)
    expect(duplicateCreates(fake)).toBe(0)
  })
})

describe('a store that refuses writes (EACCES, injected)', () => {
  it('at the intent: no request is sent', async () => {
    project = await togetherProject(1, FAST)
    const r = await cliBuild(project.root, env({ VIDSPEC_TEST_FAIL_AT: 'intent-write:EACCES' }))
    expect(r.code, r.stderr).toBe(1)
    expect(r.json?.specs[0]?.error?.code).toBe('STORE_WRITE_FAILED')
    expect(r.json?.specs[0]?.error?.message).toMatch(/no permission to write the store.*nothing was sent/)
    expect(posts()).toBe(0)
    expect(await journalFiles(storeDir())).toEqual([])
  })

  it('at the journal write after the answer: the intent survives; the next run is uncertain and pays nothing', async () => {
    project = await togetherProject(1, FAST)
    const r = await cliBuild(project.root, env({ VIDSPEC_TEST_FAIL_AT: 'journal-write:EACCES' }))
    expect(r.json?.specs[0]?.error?.code, r.stderr).toBe('PROVIDER_CREATE_UNCERTAIN')
    expect(r.json?.specs[0]?.error?.message).toContain(fake.jobs[0]?.id ?? '?')
    const [intent] = await journalFiles(storeDir())
    expect(intent?.jobId).toBeUndefined()
    const again = await cliBuild(project.root, env())
    expect(again.json?.specs[0]?.error?.code).toBe('PROVIDER_CREATE_UNCERTAIN')
    expect(posts()).toBe(1)
    expect(fake.creates).toBe(1)
  })
})
