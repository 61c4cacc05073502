import { readdir, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Store } from '@vidspec/core/internal'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { setEnv } from '../helpers/env.js'
import type { TempProject } from '../helpers/project.js'
import { FAST, journals, spawnCli, togetherProject, togetherSpec, type CliChild } from '../helpers/together.js'
import { fetchAsset, startDev, type DevServer } from '../helpers/vite.js'
import { until, waitFor } from '../helpers/wait.js'

// The dev server runs in this process, so the provider reads its key and URL from this environment.
const KEY = 'tg-dev-0123456789abcdef'
let restoreEnv = () => {}

let fake: FakeTogether
let project: TempProject | undefined
let dev: DevServer | undefined
let watcher: CliChild | undefined

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: KEY, jobDurationMs: 1_200 })
  restoreEnv = setEnv({ TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: fake.baseURL })
})
afterEach(async () => {
  await dev?.close()
  await watcher?.stop()
  await project?.dispose()
  dev = watcher = project = undefined
  fake.reset()
  fake.options.jobDurationMs = 1_200
})
afterAll(async () => {
  restoreEnv()
  await fake.close()
})

it('an edit during a paid job finishes and keeps that job, and pays once for the new key', async () => {
  project = await togetherProject(1)
  dev = await startDev(project.root, {})
  const first = await fetchAsset(`${dev.url}/clip-0.video.ts`)
  expect(first.pending).toBe(true)
  await until('the job created', () => fake.creates === 1)

  await project.write('clip-0.video.ts', togetherSpec('clip 0, edited'))
  const second = await until('re-keyed', async () => {
    const a = await fetchAsset(`${dev!.url}/clip-0.video.ts`)
    return a.key !== first.key && a
  })
  expect(second.pending).toBe(true)
  const store = new Store(project.path('.vidspec'))
  await until('both clips stored', async () => (await store.getEntry(first.key!)) && (await store.getEntry(second.key!)))
  expect(fake.creates).toBe(2)
  expect(Object.fromEntries(fake.createsByPrompt)).toEqual({ 'clip 0': 1, 'clip 0, edited': 1 })
  const landed = await until('the page gets the new clip', async () => {
    const a = await fetchAsset(`${dev!.url}/clip-0.video.ts`)
    return !a.pending && a
  })
  expect(landed).toMatchObject({ key: second.key, preview: false })
  expect(dev.updatedPaths()).toContain('/clip-0.video.ts')
})

it('vite dev and vidspec watch on one project share the store and start each job once', async () => {
  project = await togetherProject(3, FAST)
  watcher = spawnCli(['watch'], { cwd: project.root, env: { TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: fake.baseURL } })
  dev = await startDev(project.root, {})
  const assets = await Promise.all([0, 1, 2].map((i) => fetchAsset(`${dev!.url}/clip-${i}.video.ts`)))
  const store = new Store(project.path('.vidspec'))
  await until(
    'three clips stored',
    async () => (await Promise.all(assets.map((a) => store.getEntry(a.key!)))).every(Boolean),
    60_000,
  )
  // Each clip is settled on the watcher's side too: made there, or found made by the dev server.
  await until('the watcher settles every clip', () =>
    [0, 1, 2].every((i) => new RegExp(`^(done|cached|unchanged)\\s+clip-${i}\\.video\\.ts`, 'm').test(watcher!.output().stderr)),
  )
  await until('the page has every clip', async () =>
    (await Promise.all([0, 1, 2].map((i) => fetchAsset(`${dev!.url}/clip-${i}.video.ts`)))).every((a) => !a.pending),
  )
  expect(fake.creates).toBe(3)
  expect([...fake.createsByPrompt.values()]).toEqual([1, 1, 1])
})

// Issue 19's dev-server rows: creates counted per prompt and per canonical body, what the page
// imports read from the spec module.
const creates = (prompt: string) => fake.createsByPrompt.get(prompt) ?? 0
const paidOnce = () => [...fake.createsByBody.values()].every((n) => n === 1)
const asset = (name: string) => fetchAsset(`${dev!.url}/${name}.video.ts`)
const landed = (name: string) =>
  until(`${name} landed`, async () => {
    const a = await asset(name)
    return !a.pending && a
  })

async function entries(p: TempProject): Promise<Array<{ key: string; provider: string; preview: boolean; request: { prompt?: string } }>> {
  const dir = p.path('.vidspec', 'entries')
  const names = await readdir(dir).catch(() => [] as string[])
  return Promise.all(names.filter((n) => n.endsWith('.json')).map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8'))))
}

async function withSpecs(names: string[], config: object = FAST): Promise<TempProject> {
  const p = await togetherProject(0, config)
  for (const name of names) await p.write(`${name}.video.ts`, togetherSpec(name))
  return p
}

describe('vite dev: specs deleted or renamed', () => {
  it('a spec deleted while its job is queued stops wanting it at once: 0 creates', async () => {
    project = await withSpecs(['busy', 'doomed', 'after'], { ...FAST, concurrency: 1 })
    dev = await startDev(project.root, { settleMs: 0 })
    await asset('busy')
    await until('busy generating', () => creates('busy') === 1)
    expect((await asset('doomed')).pending).toBe(true)
    await rm(project.path('doomed.video.ts'))
    await waitFor('doomed dropped', () => /doomed\.video\.ts: dropped the queued job/.test(dev!.logger.text()))
    // Queued after doomed: once it has landed, doomed's turn has come and gone.
    await asset('after')
    await landed('after')
    await landed('busy')
    expect(creates('doomed')).toBe(0)
    expect(fake.creates).toBe(2)
  })

  it('a spec deleted while its paid job runs: the job is finished, stored and recorded without an error', async () => {
    project = await withSpecs(['gone'])
    dev = await startDev(project.root, { settleMs: 0 })
    const pending = await asset('gone')
    await until('gone journaled', async () => (await journals(project!.path('.vidspec'))).length === 1)
    await rm(project.path('gone.video.ts'))
    await until('stored', async () => (await entries(project!)).some((e) => e.key === pending.key && e.provider === 'together'))
    await until('journal settled', async () => (await journals(project!.path('.vidspec'))).length === 0)
    expect(dev.logger.text()).not.toMatch(/failed|ENOENT/)
    expect(creates('gone')).toBe(1)
  })

  it('a spec renamed while its paid job runs keeps its key and the page shows the clip', async () => {
    project = await withSpecs(['old'])
    dev = await startDev(project.root, { settleMs: 0 })
    const pending = await asset('old')
    await until('old journaled', async () => (await journals(project!.path('.vidspec'))).length === 1)
    await rename(project.path('old.video.ts'), project.path('new.video.ts'))
    // The page now imports the new name: the same request, the same key, the paid job's clip.
    const renamed = await asset('new')
    expect(renamed.key).toBe(pending.key)
    const clip = await landed('new')
    expect(clip).toMatchObject({ key: pending.key, preview: false })
    expect((await fetch(`${dev.url}${clip.src}`)).status).toBe(200)
    expect(dev.logger.text()).not.toMatch(/failed|ENOENT/)
    expect(creates('old')).toBe(1)
  })
})

describe('vite dev: the config edited', () => {
  it('reloads in place; switching provider mid-job finishes and stores the paid job, then shows previews', async () => {
    project = await withSpecs(['alpha', 'beta'])
    dev = await startDev(project.root, { settleMs: 0 })
    const server = dev.server
    await landed('beta')
    fake.options.jobDurationMs = 3_000
    await project.write('alpha.video.ts', togetherSpec('alpha 2'))
    const alpha = await asset('alpha')
    expect(alpha.pending).toBe(true)
    await until('alpha journaled', async () => (await journals(project!.path('.vidspec'))).some((j) => j.key === alpha.key))
    await project.write('vidspec.config.ts', `export default ${JSON.stringify({ ...FAST, provider: 'offline' })}\n`)
    await waitFor('reloaded in place', () => /vidspec\.config\.ts changed: reloaded \(provider offline\)/.test(dev!.logger.text()))
    // The paid job is downloaded and stored under its key by the provider its journal names.
    await until('paid job stored', async () => (await entries(project!)).some((e) => e.key === alpha.key && e.provider === 'together'))
    await until('journal settled', async () => (await journals(project!.path('.vidspec'))).length === 0)
    // The page now shows the offline provider's clips, made without a restart.
    const after = await landed('alpha')
    expect(after.key).not.toBe(alpha.key)
    expect(after.preview).toBe(true)
    expect(dev.server).toBe(server)
    expect(dev.logger.text()).not.toMatch(/server restarted|failed/)
    expect(creates('alpha 2')).toBe(1)
    expect(paidOnce()).toBe(true)
  })
})

describe('vite dev: spend only on what settles', () => {
  it('rapid edits keep no in-between offline preview beyond the current key', async () => {
    project = await withSpecs(['hero'])
    dev = await startDev(project.root, {})
    let previous = (await asset('hero')).key
    for (let i = 1; i <= 6; i++) {
      await project.write('hero.video.ts', togetherSpec(`hero ${i}`))
      const a = await until(`edit ${i} keyed`, async () => {
        const now = await asset('hero')
        return now.key !== previous && now
      })
      previous = a.key
      // The page asks for the pending stand-in: its offline preview is rendered.
      await fetch(`${dev.url}${a.src}`)
    }
    await landed('hero')
    await until('in-between previews evicted', async () => (await entries(project!)).filter((e) => e.preview).length <= 1, 30_000)
    expect(creates('hero 6')).toBe(1)
    expect(paidOnce()).toBe(true)
  })

  it('vidspec watch and the dev server on one project never both pay for a key the files moved past', async () => {
    project = await withSpecs(['shared'])
    fake.options.jobDurationMs = 300
    watcher = spawnCli(['watch', '--debounce', '20'], { cwd: project.root, env: { TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: fake.baseURL } })
    dev = await startDev(project.root, { settleMs: 0 })
    await landed('shared')
    const before = fake.creates
    for (let i = 1; i <= 8; i++) {
      await project.write('shared.video.ts', togetherSpec(`shared ${i}`))
      await asset('shared')
    }
    await until('last edit stored', async () => (await entries(project!)).some((e) => e.request.prompt === 'shared 8' && !e.preview), 30_000)
    await until('watch settled on it', () => /^(done|cached|unchanged)\s+shared\.video\.ts/m.test(watcher!.output().stderr))
    // Each key at most once across both processes, and the last one exactly once.
    expect(paidOnce()).toBe(true)
    expect(creates('shared 8')).toBe(1)
    expect(fake.creates - before).toBeLessThanOrEqual(8)
  })

  it('vidspec watch (settle off) waits for the dev server\'s settle: a burst the dev server coalesces is not paid key by key', async () => {
    project = await withSpecs(['burst'])
    fake.options.jobDurationMs = 200
    dev = await startDev(project.root, { settleMs: 2_000 })
    watcher = spawnCli(['watch', '--debounce', '20'], { cwd: project.root, env: { TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: fake.baseURL } })
    const queued = () => (watcher!.output().stderr.match(/^queued\s+burst\.video\.ts/gm) ?? []).length
    await waitFor('watch queued the first key', () => queued() === 1)
    await until('the first clip stored', async () => (await entries(project!)).some((e) => e.request.prompt === 'burst' && !e.preview), 30_000)
    // Each edit lands once watch has queued the previous one: alone, with no settle, watch would
    // create every one of these keys at once.
    for (let i = 1; i <= 4; i++) {
      await project.write('burst.video.ts', togetherSpec(`burst ${i}`))
      await waitFor(`watch queued edit ${i}`, () => queued() === i + 1).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${watcher!.output().stderr}`)
      })
    }
    await until('the last edit stored', async () => (await entries(project!)).some((e) => e.request.prompt === 'burst 4' && !e.preview), 30_000)
    await until('watch settled on it', () => /^(done|cached|unchanged)\s+burst\.video\.ts/m.test(watcher!.output().stderr.split(/^queued\s+burst\.video\.ts.*$/m).at(-1) ?? ''))
    expect([1, 2, 3].map((i) => creates(`burst ${i}`))).toEqual([0, 0, 0])
    expect(creates('burst 4')).toBe(1)
    expect(creates('burst')).toBe(1)
    expect(paidOnce()).toBe(true)
  })
})
