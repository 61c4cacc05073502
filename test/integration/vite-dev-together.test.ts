import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { Store } from '@vidspec/core'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { setEnv } from '../helpers/env.js'
import type { TempProject } from '../helpers/project.js'
import { FAST, spawnCli, togetherProject, togetherSpec, type CliChild } from '../helpers/together.js'
import { fetchAsset, startDev, type DevServer } from '../helpers/vite.js'
import { until } from '../helpers/wait.js'

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
