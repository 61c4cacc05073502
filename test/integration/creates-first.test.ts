import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Vidspec, type Logger } from '@vidspec/core'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { togetherProject } from '../helpers/together.js'
import type { TempProject } from '../helpers/project.js'

// A paid job seen done gives its provider slot to the next spec, whose create (lock, durable intent,
// request) then goes before the finished job's download: the order the fake received them in, over
// real HTTP, one slot at a time so that each hand-over is its own.

const API_KEY = 'tg-creates-first-5e0b7c21a9d4f386'
const JOBS = 5

let fake: FakeTogether
let project: TempProject | undefined
beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 60 })
})
afterAll(async () => {
  await fake?.close()
})
afterEach(async () => {
  await project?.dispose()
  project = undefined
  fake.reset()
})

describe('a finished paid job and the next create', () => {
  it("sends the next spec's create, and has it answered, before the finished job downloads", async () => {
    project = await togetherProject(JOBS)
    const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} }
    const vs = await Vidspec.open({
      root: project.root,
      env: { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL },
      overrides: { provider: 'together', concurrency: 1, jobs: { pollIntervalMs: 10, maxPollIntervalMs: 10 } },
      logger,
    })
    const { items } = await vs.build()
    expect(items.map((i) => i.status)).toEqual(Array(JOBS).fill('generated'))
    expect(fake.creates).toBe(JOBS)

    const at = (route: string) => fake.log.flatMap((r, i) => (r.route === route ? [i] : []))
    const creates = at('POST /videos')
    const downloads = at('GET /shrt/:token')
    expect(creates).toHaveLength(JOBS)
    expect(downloads).toHaveLength(JOBS)
    // Job k's download comes after job k+1's create, and as soon as that is answered, not after the
    // longest wait: before job k+1 is done and job k+2 created (60 ms later at least).
    for (let k = 0; k < JOBS - 1; k++) expect(downloads[k]).toBeGreaterThan(creates[k + 1] as number)
    for (let k = 0; k < JOBS - 2; k++) expect(downloads[k]).toBeLessThan(creates[k + 2] as number)
  })
})
