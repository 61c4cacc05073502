import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Store } from '@vidspec/core/internal'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import type { CliResult, TempProject } from '../helpers/project.js'
import { journals, spawnCli, storeShape, togetherProject, type CliChild } from '../helpers/together.js'
import { waitFor } from '../helpers/wait.js'

// `vite dev` and `vidspec watch`, or two CI jobs on one machine, build the same project at once. The
// per-key lock in the store makes them share each job: one process pays, the other waits and reuses.

const API_KEY = 'tg-two-processes-91d0c3e7b2a4f586'
const SPECS = 4
const JOB_MS = 300

let fake: FakeTogether
let project: TempProject | undefined
const children: CliChild[] = []

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: JOB_MS })
})
afterAll(async () => {
  await fake?.close()
})
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.stop()))
  await project?.dispose()
  project = undefined
  fake.reset()
  fake.options.jobDurationMs = JOB_MS
})

const storeDir = () => join(project?.root ?? '', '.vidspec')

function build(): CliChild {
  const child = spawnCli(['build', '--json'], {
    cwd: project?.root ?? '',
    env: { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: undefined },
  })
  children.push(child)
  return child
}

type Counts = Record<'generated' | 'cached' | 'failed' | 'invalid', number>

function counts(r: CliResult): Counts {
  expect(r.stdout, r.stderr).not.toBe('')
  return (JSON.parse(r.stdout) as { counts: Counts }).counts
}

async function expectEveryClipOnce(): Promise<void> {
  expect(fake.creates).toBe(SPECS)
  expect([...fake.createsByPrompt.values()]).toEqual(Array(SPECS).fill(1))
  const shape = await storeShape(storeDir())
  expect(shape.entries).toHaveLength(SPECS)
  expect(shape.journals).toEqual([])
  expect(shape.locks).toEqual([])
  const report = await new Store(storeDir()).verify()
  expect([...report.corrupt, ...report.missing, ...report.orphans]).toEqual([])
}

describe('two vidspec build processes on one project', () => {
  it('started together: each key is created exactly once and both exit 0', async () => {
    // Jobs long enough that the two surely overlap even if one process starts slowly.
    fake.options.jobDurationMs = 1_500
    project = await togetherProject(SPECS)
    const [a, b] = await Promise.all([build().done, build().done])
    expect(a.code, a.stderr).toBe(0)
    expect(b.code, b.stderr).toBe(0)
    const ca = counts(a)
    const cb = counts(b)
    expect(ca.generated + cb.generated).toBe(SPECS)
    expect(ca.cached + cb.cached).toBe(SPECS)
    expect(ca.failed + cb.failed).toBe(0)
    // They really overlapped: whoever lost a key's lock said it was waiting for it.
    expect(`${a.stderr}${b.stderr}`).toMatch(/job:waiting/)
    await expectEveryClipOnce()
  })

  it('the one holding the locks is killed: the waiting one takes over and resumes its jobs without paying again', async () => {
    fake.options.jobDurationMs = 600_000
    project = await togetherProject(SPECS)
    const first = build()
    await waitFor('the first process to journal every job', async () => (await journals(storeDir())).length === SPECS)
    const second = build()
    await waitFor('the second process to wait for the locks', () => /job:waiting/.test(second.output().stderr))
    first.child.kill('SIGKILL')
    await first.done
    for (const job of fake.jobs) job.durationMs = 0

    const r = await second.done
    expect(r.code, r.stderr).toBe(0)
    expect(counts(r)).toMatchObject({ generated: SPECS, failed: 0 })
    expect(r.stderr).toMatch(/job:resumed/)
    await expectEveryClipOnce()
  })
})
