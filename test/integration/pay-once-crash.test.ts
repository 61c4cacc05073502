import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import type { TempProject } from '../helpers/project.js'
import { cliBuild, duplicateCreates, expectValidClips, lostJobIds } from '../helpers/pay-once.js'
import { journalFiles, journals, spawnCli, togetherProject, type CliChild } from '../helpers/together.js'
import { waitFor } from '../helpers/wait.js'

// Ctrl-C while a create is in flight (the fake holds its answer until the test lets it go): once, the
// create is finished and journaled before the process exits; twice (a forced quit), the durable intent
// written before the request left is what remains, and the next run treats the key as uncertain.

const API_KEY = 'tg-pay-once-crash-0d4b7e19c2a6f385'

let fake: FakeTogether
let project: TempProject | undefined
let child: CliChild | undefined

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 60 })
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
})

const env = (extra: Record<string, string> = {}) => ({ TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: undefined, ...extra })
const storeDir = () => join(project?.root ?? '', '.vidspec')
const posts = () => fake.requests.get('POST /videos') ?? 0

describe('Ctrl-C during a create', () => {
  async function buildHeldInCreate(): Promise<CliChild> {
    project = await togetherProject(1)
    fake.fault({ kind: 'hold-after-create' })
    child = spawnCli(['build', '--json'], { cwd: project.root, env: env() })
    const running = child
    await waitFor('the create to be held', () => {
      if (running.child.exitCode !== null) throw new Error(`vidspec exited early: ${running.output().stderr}`)
      return fake.held === 1
    })
    return running
  }

  it('twice (forced quit): exits 130 at once, the intent survives, the next run is uncertain and creates nothing', async () => {
    const running = await buildHeldInCreate()
    running.child.kill('SIGINT')
    await waitFor('the first Ctrl-C to be seen', () => /stopping/.test(running.output().stderr))
    running.child.kill('SIGINT')
    expect((await running.done).code).toBe(130)
    const [intent, ...more] = await journalFiles(storeDir())
    expect(more).toEqual([])
    expect(intent).toMatchObject({ spec: 'clip-0.video.ts', origin: { baseURL: fake.baseURL } })
    expect(intent?.jobId).toBeUndefined()
    fake.releaseHeld()

    const rerun = await cliBuild(project?.root ?? '', env())
    expect(rerun.json?.specs[0]?.error?.code, rerun.stderr).toBe('PROVIDER_CREATE_UNCERTAIN')
    expect(posts()).toBe(1)
    expect(fake.creates).toBe(1)
  })

  it('once: the create is not abandoned; its job id is journaled before exit 130, and the rerun resumes it', async () => {
    const running = await buildHeldInCreate()
    running.child.kill('SIGINT')
    await waitFor('the first Ctrl-C to be seen', () => /stopping/.test(running.output().stderr))
    fake.releaseHeld()
    expect((await running.done).code).toBe(130)
    expect((await journals(storeDir())).map((j) => j.jobId)).toEqual([fake.jobs[0]?.id])

    const rerun = await cliBuild(project?.root ?? '', env())
    expect(rerun.json?.specs[0]?.status, rerun.stderr).toBe('generated')
    expect(fake.creates).toBe(1)
    expect(duplicateCreates(fake)).toBe(0)
    expect((await expectValidClips(storeDir())).map((e) => e.jobId)).toEqual([fake.jobs[0]?.id])
    expect(await lostJobIds(fake, storeDir())).toEqual([])
  })
})
