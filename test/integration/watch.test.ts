import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { tempProject, type TempProject } from '../helpers/project.js'
import { FAST, journals, spawnCli, togetherSpec, type CliChild } from '../helpers/together.js'
import { waitFor } from '../helpers/wait.js'

const API_KEY = 'watch-test-key'
const brand = `export const brand = { look: 'teal' }\n`
const spec = (prompt: string, shared = true) =>
  "import { defineVideo } from '@vidspec/core'\n" +
  (shared ? "import { brand } from './shared/brand'\n" : '') +
  `export default defineVideo({ model: 'minimax/hailuo-02', prompt: ${shared ? `\`${prompt} \${brand.look}\`` : JSON.stringify(prompt)}, seconds: 1, width: 1366, height: 768 })\n`

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

async function project(): Promise<TempProject> {
  const p = await tempProject({
    'vidspec.config.ts': `export default ${JSON.stringify(FAST)}\n`,
    'shared/brand.ts': brand,
    'a.video.ts': spec('alpha'),
    'b.video.ts': spec('beta'),
    'solo.video.ts': spec('solo', false),
  })
  cleanups.push(() => p.dispose())
  return p
}

function watchCli(p: TempProject, extra: Record<string, string> = {}): CliChild {
  const child = spawnCli(['watch', '--debounce', '40'], {
    cwd: p.root,
    env: { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: 'true', ...extra },
  })
  cleanups.push(() => child.stop())
  return child
}

/** Decision lines (`<kind> <spec> ...`) printed so far. */
function decisions(child: CliChild): Array<{ kind: string; spec: string }> {
  return child
    .output()
    .stderr.split('\n')
    .map((l) => /^(added|removed|unchanged|cached|queued|superseded|invalid|done|failed)\s+(\S+)/.exec(l))
    .flatMap((m) => (m?.[1] && m[2] ? [{ kind: m[1], spec: m[2] }] : []))
}

function count(child: CliChild, kind: string, spec?: string): number {
  return decisions(child).filter((d) => d.kind === kind && (spec === undefined || d.spec === spec)).length
}

describe('vidspec watch', () => {
  it('builds at start, then re-evaluates exactly what each edit affects and pays only for changed keys', async () => {
    const p = await project()
    const w = watchCli(p)
    await waitFor('initial builds', () => count(w, 'done') === 3)
    expect(fake.creates).toBe(3)

    // A spec edit that changes the request: one job.
    await p.write('a.video.ts', spec('alpha two'))
    await waitFor('a rebuilt', () => count(w, 'done', 'a.video.ts') === 2)
    expect(fake.creates).toBe(4)

    // A formatting-only edit: re-evaluated, same key, no job.
    await p.write('solo.video.ts', `${spec('solo', false)}// a comment\n`)
    await waitFor('solo re-evaluated', () => count(w, 'unchanged', 'solo.video.ts') === 1)
    expect(fake.creates).toBe(4)

    // A shared-module edit: exactly the specs importing it.
    const before = decisions(w).length
    await p.write('shared/brand.ts', brand.replace('teal', 'amber'))
    await waitFor('importers rebuilt', () => count(w, 'done', 'a.video.ts') === 3 && count(w, 'done', 'b.video.ts') === 2)
    const after = decisions(w).slice(before)
    expect(after.filter((d) => d.kind === 'queued').map((d) => d.spec).sort()).toEqual(['a.video.ts', 'b.video.ts'])
    expect(after.some((d) => d.spec === 'solo.video.ts')).toBe(false)
    expect(fake.creates).toBe(6)
  })

  it('survives a broken spec, rebuilds it once fixed, and follows added and deleted spec files', async () => {
    const p = await project()
    const w = watchCli(p)
    await waitFor('initial builds', () => count(w, 'done') === 3)

    await p.write('b.video.ts', 'export default defineVideo({ model: \n')
    await waitFor('b reported invalid', () => count(w, 'invalid', 'b.video.ts') === 1)
    expect(w.output().stderr).toMatch(/b\.video\.ts.*could not be compiled/)
    expect(w.child.exitCode).toBeNull()

    await p.write('b.video.ts', spec('beta fixed'))
    await waitFor('b rebuilt after the fix', () => count(w, 'done', 'b.video.ts') === 2).catch((err: Error) => {
      throw new Error(`${err.message}\n${w.output().stderr}`)
    })

    await p.write('new.video.ts', spec('newcomer', false))
    await waitFor('new spec built', () => count(w, 'done', 'new.video.ts') === 1).catch((err: Error) => {
      throw new Error(`${err.message}\n${w.output().stderr}`)
    })
    expect(count(w, 'added', 'new.video.ts')).toBe(1)

    await rm(p.path('solo.video.ts'))
    await waitFor('solo removed', () => count(w, 'removed', 'solo.video.ts') === 1)
    expect(fake.creates).toBe(5)
  })

  it('drops a queued job superseded by a newer edit, never one already paid for', async () => {
    const p = await project()
    await p.write('vidspec.config.ts', `export default ${JSON.stringify({ ...FAST, concurrency: 1 })}\n`)
    fake.options.jobDurationMs = 600
    const w = watchCli(p)
    await waitFor('initial builds', () => count(w, 'done') === 3, 30_000)
    // a's job occupies the only slot; b's first edit waits in the queue and is superseded.
    await p.write('a.video.ts', spec('alpha slow'))
    await waitFor('a generating', () => fake.creates === 4)
    await p.write('b.video.ts', spec('beta v2'))
    await waitFor('b v2 queued', () => count(w, 'queued', 'b.video.ts') === 2)
    await p.write('b.video.ts', spec('beta v3'))
    await waitFor('b v3 done', () => count(w, 'done', 'b.video.ts') === 2, 30_000)
    await waitFor('a done', () => count(w, 'done', 'a.video.ts') === 2, 30_000)
    expect(count(w, 'superseded', 'b.video.ts')).toBe(1)
    // alpha slow and beta v3 were paid for; beta v2 never was.
    expect(fake.jobs.map((j) => (j.body as { prompt: string }).prompt).slice(3).sort()).toEqual(['alpha slow teal', 'beta v3 teal'])
  })

  it('SIGINT during a job keeps the journal; the next run resumes it with zero extra creates', async () => {
    const p = await project()
    // Long enough to interrupt mid-job, short enough for the resumed run to see it finish.
    fake.options.jobDurationMs = 4_000
    const w = watchCli(p)
    await waitFor('jobs created', () => fake.creates === 3)
    await waitFor('journals written', async () => (await journals(p.path('.vidspec'))).length === 3)
    w.child.kill('SIGINT')
    const result = await w.done
    expect(result.stderr).toMatch(/paid jobs in flight stay in the journal/)
    expect((await journals(p.path('.vidspec'))).length).toBe(3)
    const again = watchCli(p)
    await waitFor('resumed jobs done', () => count(again, 'done') === 3, 30_000)
    expect(fake.creates).toBe(3)
    expect((await journals(p.path('.vidspec'))).length).toBe(0)
  })

  it('a reader that goes away (`vidspec watch 2>&1 | head`) stops it as Ctrl-C does; nothing paid for is bought again', async () => {
    const p = await project()
    await p.write('vidspec.config.ts', `export default ${JSON.stringify({ ...FAST, concurrency: 1 })}\n`)
    fake.options.jobDurationMs = 800
    const w = watchCli(p)
    await waitFor('first job created', () => fake.creates === 1)
    // Mid-job, with two specs still queued: the next line watch writes meets a closed pipe.
    w.child.stderr.destroy()
    await waitFor('watch stopped on its own', () => w.child.exitCode !== null || w.child.signalCode !== null)
    const stopped = await w.done
    expect([stopped.code, stopped.signal]).toEqual([0, null])
    // What it had paid for is stored or journaled: the next run buys only what was never created.
    const again = watchCli(p)
    await waitFor('every spec stored', async () => (await entries(p)).length === 3, 30_000)
    await waitFor('journals settled', async () => (await journals(p.path('.vidspec'))).length === 0)
    expect(fake.creates).toBe(3)
    expect([...fake.createsByBody.values()]).toEqual([1, 1, 1])
    await again.stop()
  })
})

// Issue 19 and issue 15's SpecTracker: creates are counted by the fake per prompt and per
// canonical body, never inferred from timing.
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const keyframeSpec = (prompt: string) =>
  "import { defineVideo } from '@vidspec/core'\n" +
  `export default defineVideo({ model: 'minimax/hailuo-02', prompt: ${JSON.stringify(prompt)}, seconds: 1, width: 1366, height: 768, ` +
  "media: { frame_images: [{ input_image: './first.png', frame: 'first' }] } })\n"

async function projectOf(files: Record<string, string | Buffer>, config: object = FAST): Promise<TempProject> {
  const p = await tempProject({ 'vidspec.config.ts': `export default ${JSON.stringify(config)}\n`, ...files })
  cleanups.push(() => p.dispose())
  return p
}

/** `vidspec watch` outside CI (a config edit may switch to a paid provider). */
function watchHere(p: TempProject, args: string[] = []): CliChild {
  const child = spawnCli(['watch', '--debounce', '40', ...args], {
    cwd: p.root,
    env: { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL },
  })
  cleanups.push(() => child.stop())
  return child
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
    const p = await projectOf({
      'first.png': Buffer.concat([PNG, Buffer.from('frame one')]),
      'keyframe.video.ts': keyframeSpec('keyframe'),
      'plain.video.ts': togetherSpec('plain'),
    })
    const w = watchHere(p)
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
    const p = await projectOf(
      { 'busy.video.ts': togetherSpec('busy'), 'twin-a.video.ts': togetherSpec('twin'), 'twin-b.video.ts': togetherSpec('twin') },
      { ...FAST, concurrency: 1 },
    )
    const w = watchHere(p)
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
    const p = await projectOf({ 'busy.video.ts': togetherSpec('busy') }, { ...FAST, concurrency: 1 })
    const w = watchHere(p)
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

  it('a save right after the previous one was evaluated (inside chokidar\'s throttle window) is not lost', async () => {
    const p = await projectOf({ 'a.video.ts': togetherSpec('a 0') })
    const w = spawnCli(['watch', '--debounce', '1', '--settle', '300'], { cwd: p.root, env: { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL } })
    cleanups.push(() => w.stop())
    await waitFor('initial build', () => count(w, 'done') === 1, 30_000).catch(fail(w))
    // Each save follows the previous one's evaluation at once, within ~50 ms of its file event:
    // chokidar drops such a change about half the time, and watch stayed on the previous key (its
    // job then dropped as superseded) until some later save. Six rounds all ending right by luck
    // would happen about once in 64 runs.
    for (let round = 1; round <= 6; round++) {
      const queued = count(w, 'queued', 'a.video.ts')
      await p.write('a.video.ts', togetherSpec(`a ${round}.1`))
      await waitFor(`round ${round}: first save evaluated`, () => count(w, 'queued', 'a.video.ts') > queued).catch(fail(w))
      await p.write('a.video.ts', togetherSpec(`a ${round}.2`))
      await waitFor(`round ${round} ends on its last save`, () => creates(`a ${round}.2`) === 1, 15_000).catch(fail(w))
    }
    expect(paidOnce()).toBe(true)
  })

  it('with --settle, a burst of edits pays only for where it settles', async () => {
    const p = await projectOf({ 'a.video.ts': togetherSpec('a 0') })
    const w = watchHere(p, ['--settle', '4000'])
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
    const p = await projectOf({ 'a.video.ts': togetherSpec('alpha'), 'b.video.ts': togetherSpec('beta') })
    const w = watchHere(p)
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
