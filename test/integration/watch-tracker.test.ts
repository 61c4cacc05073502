import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { tempProject, type TempProject } from '../helpers/project.js'
import { FAST, journals, spawnCli, togetherSpec, type CliChild } from '../helpers/together.js'
import { waitFor } from '../helpers/wait.js'

// Issue 19 and issue 15's SpecTracker through the real `vidspec watch`: creates are counted by the
// fake per prompt and per canonical body, never inferred from timing.

const API_KEY = 'watch-tracker-key'
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const keyframeSpec = (prompt: string) =>
  "import { defineVideo } from '@vidspec/core'\n" +
  `export default defineVideo({ model: 'minimax/hailuo-02', prompt: ${JSON.stringify(prompt)}, seconds: 1, width: 1366, height: 768, ` +
  "media: { frame_images: [{ input_image: './first.png', frame: 'first' }] } })\n"

let fake: FakeTogether
const cleanups: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 150 })
})
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.()
  fake.reset()
})
afterAll(async () => {
  await fake.close()
})

async function project(files: Record<string, string | Buffer>, config: object = FAST): Promise<TempProject> {
  const p = await tempProject({ 'vidspec.config.ts': `export default ${JSON.stringify(config)}\n`, ...files })
  cleanups.push(() => p.dispose())
  return p
}

function watchCli(p: TempProject, args: string[] = []): CliChild {
  const child = spawnCli(['watch', '--debounce', '40', ...args], {
    cwd: p.root,
    env: { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL },
  })
  cleanups.push(() => child.stop())
  return child
}

function count(child: CliChild, kind: string, spec?: string): number {
  return child
    .output()
    .stderr.split('\n')
    .map((l) => /^(added|removed|unchanged|cached|queued|superseded|invalid|done|failed)\s+(\S+)/.exec(l))
    .filter((m) => m?.[1] === kind && (spec === undefined || m[2] === spec)).length
}

const creates = (prompt: string) => fake.createsByPrompt.get(prompt) ?? 0
/** No canonical body was ever created twice: each key paid at most once. */
const paidOnce = () => [...fake.createsByBody.values()].every((n) => n === 1)
const fail = (w: CliChild) => (err: Error) => {
  throw new Error(`${err.message}\n${w.output().stderr}`)
}

async function entries(p: TempProject): Promise<Array<{ provider: string; preview: boolean; request: { prompt?: string } }>> {
  const dir = p.path('.vidspec', 'entries')
  const names = await readdir(dir).catch(() => [] as string[])
  return Promise.all(names.filter((n) => n.endsWith('.json')).map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8'))))
}

describe('vidspec watch over SpecTracker', () => {
  it("replacing a spec's first-frame image re-keys and regenerates exactly that spec", async () => {
    const p = await project({
      'first.png': Buffer.concat([PNG, Buffer.from('frame one')]),
      'keyframe.video.ts': keyframeSpec('keyframe'),
      'plain.video.ts': togetherSpec('plain'),
    })
    const w = watchCli(p)
    await waitFor('initial builds', () => count(w, 'done') === 2).catch(fail(w))
    expect(fake.creates).toBe(2)

    await p.write('first.png', Buffer.concat([PNG, Buffer.from('frame two, other bytes')]))
    await waitFor('keyframe rebuilt', () => count(w, 'done', 'keyframe.video.ts') === 2).catch(fail(w))
    expect(creates('keyframe')).toBe(2)
    expect(creates('plain')).toBe(1)
    expect(count(w, 'queued', 'plain.video.ts')).toBe(1)
    expect(fake.creates).toBe(3)
    expect(paidOnce()).toBe(true)
  })

  it('a twin spec keeps a queued key that its twin was edited away from', async () => {
    const p = await project(
      { 'busy.video.ts': togetherSpec('busy'), 'twin-a.video.ts': togetherSpec('twin'), 'twin-b.video.ts': togetherSpec('twin') },
      { ...FAST, concurrency: 1 },
    )
    const w = watchCli(p)
    await waitFor('initial builds', () => count(w, 'done') === 3).catch(fail(w))
    expect(fake.creates).toBe(2)
    fake.options.jobDurationMs = 1_000
    // busy's job holds the only slot while both twins queue for one new key.
    await p.write('busy.video.ts', togetherSpec('busy 2'))
    await waitFor('busy generating', () => creates('busy 2') === 1)
    await p.write('twin-a.video.ts', togetherSpec('twin 2'))
    await p.write('twin-b.video.ts', togetherSpec('twin 2'))
    await waitFor('twins queued', () => count(w, 'queued', 'twin-a.video.ts') === 2 && count(w, 'queued', 'twin-b.video.ts') === 2).catch(fail(w))
    await p.write('twin-a.video.ts', togetherSpec('twin 3'))
    await waitFor('all done', () => count(w, 'done', 'twin-a.video.ts') === 2 && count(w, 'done', 'twin-b.video.ts') === 2, 30_000).catch(fail(w))
    // twin-b still wanted "twin 2": created once, not cancelled silently.
    expect(creates('twin 2')).toBe(1)
    expect(creates('twin 3')).toBe(1)
    expect(count(w, 'superseded')).toBe(0)
    expect(paidOnce()).toBe(true)
  })

  it('a spec deleted while its job is queued stops wanting it at once: never created', async () => {
    const p = await project({ 'busy.video.ts': togetherSpec('busy') }, { ...FAST, concurrency: 1 })
    const w = watchCli(p)
    await waitFor('initial build', () => count(w, 'done') === 1).catch(fail(w))
    fake.options.jobDurationMs = 1_000
    await p.write('busy.video.ts', togetherSpec('busy 2'))
    await waitFor('busy generating', () => creates('busy 2') === 1)
    await p.write('doomed.video.ts', togetherSpec('doomed'))
    await waitFor('doomed queued', () => count(w, 'queued', 'doomed.video.ts') === 1).catch(fail(w))
    await rm(p.path('doomed.video.ts'))
    await waitFor('doomed removed', () => count(w, 'removed', 'doomed.video.ts') === 1).catch(fail(w))
    // Queued after doomed was: once it is done, the slot doomed would have taken has come and gone.
    await p.write('after.video.ts', togetherSpec('after'))
    await waitFor('after done', () => count(w, 'done', 'after.video.ts') === 1, 30_000).catch(fail(w))
    expect(creates('doomed')).toBe(0)
    expect(count(w, 'superseded', 'doomed.video.ts')).toBe(1)
    expect(count(w, 'done', 'busy.video.ts')).toBe(2)
  })

  it('with --settle, a burst of edits pays only for where it settles', async () => {
    const p = await project({ 'a.video.ts': togetherSpec('a 0') })
    const w = watchCli(p, ['--settle', '4000'])
    await waitFor('initial build', () => count(w, 'done') === 1, 30_000).catch(fail(w))
    for (let i = 1; i <= 4; i++) {
      await p.write('a.video.ts', togetherSpec(`a ${i}`))
      await waitFor(`edit ${i} queued`, () => count(w, 'queued', 'a.video.ts') === i + 1).catch(fail(w))
    }
    await waitFor('last edit done', () => count(w, 'done', 'a.video.ts') === 2, 30_000).catch(fail(w))
    expect([1, 2, 3, 4].map((i) => creates(`a ${i}`))).toEqual([0, 0, 0, 1])
    expect(count(w, 'superseded', 'a.video.ts')).toBe(3)
  })

  it('a config edit reloads in place; switching provider mid-job finishes and stores the paid job first', async () => {
    const p = await project({ 'a.video.ts': togetherSpec('alpha'), 'b.video.ts': togetherSpec('beta') })
    const w = watchCli(p)
    await waitFor('initial builds', () => count(w, 'done') === 2).catch(fail(w))
    fake.options.jobDurationMs = 2_000
    await p.write('a.video.ts', togetherSpec('alpha 2'))
    await waitFor('alpha 2 journaled', async () => (await journals(p.path('.vidspec'))).length === 1)
    await p.write('vidspec.config.ts', `export default ${JSON.stringify({ ...FAST, provider: 'offline' })}\n`)
    await waitFor('reloaded', () => /reloaded \(provider offline\)/.test(w.output().stderr)).catch(fail(w))
    // The paid job is downloaded and stored under its key, by the provider its journal names.
    await waitFor('paid job stored', async () => (await entries(p)).some((e) => e.provider === 'together' && e.request.prompt === 'alpha 2'), 30_000).catch(fail(w))
    await waitFor('journal settled', async () => (await journals(p.path('.vidspec'))).length === 0)
    // Then every spec is re-keyed for the offline provider and gets its preview.
    await waitFor('previews', async () => (await entries(p)).filter((e) => e.provider === 'offline').length === 2, 30_000).catch(fail(w))
    expect(creates('alpha 2')).toBe(1)
    expect(fake.creates).toBe(3)
    expect(w.child.exitCode).toBeNull()
    expect(count(w, 'failed')).toBe(0)
  })
})
