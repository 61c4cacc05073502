import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startFakeTogether, type Fault, type FakeTogether } from '../fake-together/server.js'
import { runCli, type TempProject } from '../helpers/project.js'
import { cliBuild, duplicateCreates, expectValidClips } from '../helpers/pay-once.js'
import { FAST, storeShape, togetherProject } from '../helpers/together.js'

// A create whose answer is not the API's own refusal may have started a paid job: a gateway's 502 or
// 504 page, an empty 500, a 200 without an id, a timeout or a reset after the body was sent. Each is
// uncertain: one create, never retried, and the next run does not create again. Only a 429 and a 503
// with the API's JSON error are refusals, and only those are retried. One project, one spec per
// answer (faults matched by prompt), run through the real CLI twice.

const API_KEY = 'tg-pay-once-gateway-5e2c91b0a7d3f468'

const UNCERTAIN: Array<[string, Fault]> = [
  ['502 HTML page', { kind: 'answer-after-create', status: 502, body: 'html' }],
  ['504 HTML page', { kind: 'answer-after-create', status: 504, body: 'html' }],
  ['504 empty body', { kind: 'answer-after-create', status: 504, body: 'empty' }],
  ['500 API error', { kind: 'answer-after-create', status: 500, body: 'json' }],
  ['500 empty body', { kind: 'answer-after-create', status: 500, body: 'empty' }],
  ['503 HTML page', { kind: 'answer-after-create', status: 503, body: 'html' }],
  ['200 without a job id', { kind: 'answer-after-create', status: 200, body: 'no-id' }],
  ['timeout after the body was sent', { kind: 'hang-after-create' }],
  ['reset after the body was sent', { kind: 'drop-after-create' }],
]
const REFUSED: Array<[string, Fault]> = [
  ['429 twice', { kind: 'rate-limit', retryAfterMs: 5, times: 2 }],
  ['503 with the API error twice', { kind: 'unavailable', times: 2 }],
]
const ALL = [...UNCERTAIN, ...REFUSED]

let fake: FakeTogether
let project: TempProject | undefined

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 40 })
})
afterAll(async () => {
  await fake?.close()
})
afterEach(async () => {
  await project?.dispose()
  project = undefined
  fake.reset()
})

const env = () => ({ TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL })
const posts = () => fake.requests.get('POST /videos') ?? 0

describe('create answers after the job may exist', () => {
  it('gateway pages, empty bodies, 500, 200 without id, timeout and reset are uncertain; 429 and 503+JSON are retried', async () => {
    project = await togetherProject(ALL.length, { ...FAST, together: { ...FAST.together, requestTimeoutMs: 400 } })
    ALL.forEach(([, fault], i) => fake.fault({ ...fault, match: { prompt: `clip ${i}` } }))
    const spec = (i: number) => `clip-${i}.video.ts`

    const first = await cliBuild(project.root, env())
    expect(first.code, first.stderr).toBe(1)
    UNCERTAIN.forEach(([what], i) => expect([what, first.codes[spec(i)]]).toEqual([what, 'PROVIDER_CREATE_UNCERTAIN']))
    REFUSED.forEach(([what], j) => {
      const s = first.json?.specs.find((x) => x.spec === spec(UNCERTAIN.length + j))
      expect([what, s?.status, s?.error?.message]).toEqual([what, 'generated', undefined])
    })
    // Each uncertain spec: exactly one request. Each refused one: two refusals, then the one create.
    expect(posts()).toBe(UNCERTAIN.length + REFUSED.length * 3)
    expect(fake.creates).toBe(ALL.length)
    expect(duplicateCreates(fake)).toBe(0)
    const storeDir = join(project.root, '.vidspec')
    expect((await storeShape(storeDir)).uncertain).toHaveLength(UNCERTAIN.length)
    expect(await expectValidClips(storeDir)).toHaveLength(REFUSED.length)

    // The next run pays for none of them again: the uncertain ones stop before any request.
    const second = await cliBuild(project.root, env())
    expect(second.code, second.stderr).toBe(1)
    UNCERTAIN.forEach(([what], i) => expect([what, second.codes[spec(i)]]).toEqual([what, 'PROVIDER_CREATE_UNCERTAIN']))
    expect(second.json?.counts).toMatchObject({ cached: REFUSED.length, failed: UNCERTAIN.length })
    expect(second.stderr).toMatch(/--retry-uncertain/)
    expect(posts()).toBe(UNCERTAIN.length + REFUSED.length * 3)
    expect(fake.creates).toBe(ALL.length)

    // status lists every uncertain create, by key, so a person can decide.
    const status = await runCli(['status', '--json'], { cwd: project.root, env: env() })
    expect(status.code, status.stderr).toBe(0)
    const listed = (JSON.parse(status.stdout) as { uncertain: Array<{ spec: string }> }).uncertain.map((u) => u.spec).sort()
    expect(listed).toEqual(UNCERTAIN.map((_, i) => spec(i)).sort())
  })
})
