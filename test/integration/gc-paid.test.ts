import { rename } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { entries, objectFile, sha256File } from '../helpers/corrupt.js'
import { runCli, type CliResult, type TempProject } from '../helpers/project.js'
import { FAST, togetherProject, togetherSpec } from '../helpers/together.js'

// gc protects paid work whatever the environment: with or without TOGETHER_API_KEY, with or without
// a lockfile, with `provider: 'together'` or `'auto'` (which an unset key turns into offline), no
// paid clip of a current spec is removed, and a paid clip no spec needs is only ever moved to the
// trash, on an explicit flag, and can be restored.

const API_KEY = 'tg-gc-paid-8d2b6f0a4c1e9375'

let fake: FakeTogether
let p: TempProject
let current: string[]
let stale: string
let clipsLost = 0

const cli = (args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> =>
  runCli(args, { cwd: p.root, env: { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: undefined, ...env }, timeoutMs: 60_000 })

/** Every paid clip made so far, still in the store with sound bytes; counts any that is not. */
async function paidClipsIntact(keys: string[]): Promise<void> {
  const store = p.path('.vidspec')
  const byKey = new Map((await entries(store)).map((e) => [e.key, e]))
  for (const key of keys) {
    const e = byKey.get(key)
    if (!e || (await sha256File(objectFile(store, e)).catch(() => '')) !== e.digest) clipsLost++
  }
  expect(clipsLost).toBe(0)
}

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 40 })
  p = await togetherProject(2)
  expect((await cli(['build'])).code).toBe(0)
  const first = await entries(p.path('.vidspec'))
  // clip-1 edited and built again: its first clip is paid for and no current spec needs it.
  await p.write('clip-1.video.ts', togetherSpec('clip 1, second take'))
  expect((await cli(['build'])).code).toBe(0)
  const all = await entries(p.path('.vidspec'))
  stale = first.find((e) => e.spec === 'clip-1.video.ts')!.key
  current = all.map((e) => e.key).filter((k) => k !== stale)
  expect([all.length, current.length, fake.creates]).toEqual([3, 2, 3])
})
afterAll(async () => {
  console.info(`gc-paid: clips lost ${clipsLost}`)
  await p?.dispose()
  await fake?.close()
})

describe('vidspec gc', () => {
  const cells = (['together', 'auto'] as const).flatMap((provider) =>
    [true, false].flatMap((key) => [true, false].map((lock) => ({ provider, key, lock }))),
  )
  for (const { provider, key, lock } of cells) {
    it(`removes no paid clip: provider ${provider}, ${key ? 'with' : 'without'} TOGETHER_API_KEY, ${lock ? 'with' : 'without'} a lockfile`, async () => {
      const config = provider === 'auto' ? { ...FAST, provider: 'auto' } : FAST
      await p.write('vidspec.config.ts', `export default ${JSON.stringify(config)}\n`)
      if (!lock) await rename(p.path('vidspec.lock.json'), p.path('lock.away'))
      try {
        const r = await cli(['gc', '--json'], key ? {} : { TOGETHER_API_KEY: undefined })
        expect(r.code, r.stderr).toBe(0)
        const report = JSON.parse(r.stdout)
        expect(report).toMatchObject({ trashedEntries: [], trashedObjects: [], paidSpared: [stale] })
        for (const k of current) expect(Object.keys(report.keptKeys)).toContain(k)
        await paidClipsIntact([...current, stale])
      } finally {
        if (!lock) await rename(p.path('lock.away'), p.path('vidspec.lock.json'))
      }
    })
  }

  it('keeps current paid clips by their keys alone: no key, provider auto, no lockfile, no record of the last builds', async () => {
    await p.write('vidspec.config.ts', `export default ${JSON.stringify({ ...FAST, provider: 'auto' })}\n`)
    await rename(p.path('vidspec.lock.json'), p.path('lock.away'))
    await rename(p.path('.vidspec', 'specs'), p.path('specs.away'))
    try {
      const r = await cli(['gc', '--json'], { TOGETHER_API_KEY: undefined })
      expect(r.code, r.stderr).toBe(0)
      for (const k of current) expect(JSON.parse(r.stdout).keptKeys[k]).toEqual([expect.stringMatching(/\(together\)$/)])
      await paidClipsIntact([...current, stale])
    } finally {
      await rename(p.path('lock.away'), p.path('vidspec.lock.json'))
      await rename(p.path('specs.away'), p.path('.vidspec', 'specs'))
      await p.write('vidspec.config.ts', `export default ${JSON.stringify(FAST)}\n`)
    }
  })

  it('moves a paid clip only on --include-paid, lists it first on --dry-run, into a trash that --restore empties back', async () => {
    const dry = await cli(['gc', '--dry-run', '--include-paid'], { TOGETHER_API_KEY: undefined })
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout.split('\n')[0]).toMatch(new RegExp(`^would move to trash  paid clip ${stale.slice(0, 12)} \\(clip-1\\.video\\.ts, .*job `))
    await paidClipsIntact([...current, stale])

    const moved = await cli(['gc', '--include-paid', '--json'], { TOGETHER_API_KEY: undefined })
    expect(JSON.parse(moved.stdout)).toMatchObject({ trashedEntries: [stale], removedEntries: [], removedObjects: [] })
    await paidClipsIntact(current)
    expect((await entries(p.path('.vidspec'))).map((e) => e.key)).not.toContain(stale)

    const restored = await cli(['gc', '--restore', '--json'])
    expect(JSON.parse(restored.stdout)).toMatchObject({ entries: [stale] })
    await paidClipsIntact([...current, stale])
    expect((await cli(['verify'])).code).toBe(0)
    // Nothing paid was lost, so nothing is paid for again.
    expect((await cli(['build'])).code).toBe(0)
    expect(fake.creates).toBe(3)
  })
})
