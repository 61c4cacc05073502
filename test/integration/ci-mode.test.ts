import { readFile, rm } from 'node:fs/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { runCli, tempProject, type TempProject } from '../helpers/project.js'
import { FAST, togetherSpec } from '../helpers/together.js'

// Local media are judged by their bytes: a keyframe fixture starts with the PNG signature.
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

const API_KEY = 'ci-mode-key'
let fake: FakeTogether
const cleanups: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 60 })
})
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.()
  fake.reset()
})
afterAll(async () => {
  await fake.close()
})

async function project(specs: Record<string, string>): Promise<TempProject> {
  const p = await tempProject({ 'vidspec.config.ts': `export default ${JSON.stringify(FAST)}\n`, ...specs })
  cleanups.push(() => p.dispose())
  return p
}

const three = { 'a.video.ts': togetherSpec('alpha'), 'b.video.ts': togetherSpec('beta'), 'c.video.ts': togetherSpec('gamma') }

function cli(p: TempProject, args: string[], env: Record<string, string | undefined> = {}) {
  return runCli(args, { cwd: p.root, env: { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: undefined, ...env } })
}

const requests = () => fake.creates + fake.polls

describe('--frozen', () => {
  it('exits 3 naming every miss before any request, and is the default when CI=true', async () => {
    const p = await project(three)
    for (const [args, env] of [
      [['build', '--frozen'], {}],
      [['build'], { CI: 'true' }],
    ] as const) {
      const r = await cli(p, [...args], env)
      expect(r.code, r.stderr).toBe(3)
      expect(r.stderr).toMatch(/--frozen: 3 specs need a paid generation/)
      for (const s of ['a.video.ts', 'b.video.ts', 'c.video.ts']) expect(r.stderr).toContain(s)
    }
    expect(requests()).toBe(0)
    expect(fake.requests.size === 0 || [...fake.requests.values()].every((n) => n === 0)).toBe(true)
    const allowed = await cli(p, ['build', '--no-frozen'], { CI: 'true' })
    expect(allowed.code, allowed.stderr).toBe(0)
    expect(fake.creates).toBe(3)
    // Everything cached now: frozen passes without a request.
    const before = requests()
    expect((await cli(p, ['build'], { CI: 'true' })).code).toBe(0)
    expect(requests()).toBe(before)
  })

  it('lets free offline previews through', async () => {
    const p = await project(three)
    const r = await cli(p, ['build', '--frozen', '--provider', 'offline'])
    expect(r.code, r.stderr).toBe(0)
  })
})

describe('--max-jobs and --max-cost', () => {
  it('--max-jobs refuses a run needing more, starts nothing, and allows exactly N', async () => {
    const p = await project(three)
    const refused = await cli(p, ['build', '--max-jobs', '2'])
    expect(refused.code).toBe(3)
    expect(refused.stderr).toMatch(/--max-jobs 2: this run needs 3 generations/)
    expect(requests()).toBe(0)
    const ok = await cli(p, ['build', '--max-jobs', '3', '--json'])
    expect(ok.code, ok.stderr).toBe(0)
    expect(fake.creates).toBe(3)
    expect(JSON.parse(ok.stdout).counts.generated).toBe(3)
  })

  it('--max-cost estimates from earlier clips of the model and refuses an over-budget run', async () => {
    const p = await project({ 'a.video.ts': togetherSpec('alpha') })
    const unknown = await cli(p, ['build', '--max-cost', '10'])
    expect(unknown.code).toBe(3)
    expect(unknown.stderr).toMatch(/no cost estimate for a\.video\.ts/)
    expect(requests()).toBe(0)
    expect((await cli(p, ['build'])).code).toBe(0)
    const paid = fake.jobs[0]?.outcome
    expect(paid).toBeDefined()
    await p.write('b.video.ts', togetherSpec('beta'))
    await p.write('c.video.ts', togetherSpec('gamma'))
    const creates = fake.creates
    // The fake charges $0.05 per second; two more 1 s clips cost about $0.10.
    const over = await cli(p, ['build', '--max-cost', '0.09'])
    expect(over.code).toBe(3)
    expect(over.stderr).toMatch(/would cost about \$0\.10/)
    expect(fake.creates).toBe(creates)
    const within = await cli(p, ['build', '--max-cost', '0.11'])
    expect(within.code, within.stderr).toBe(0)
    expect(fake.creates).toBe(creates + 2)
  })
})

describe('--report', () => {
  it('writes key, status, cached/generated, duration, cost and error per spec', async () => {
    const p = await project({ ...three, 'bad.video.ts': togetherSpec('x').replace('seconds: 1', 'seconds: 99') })
    const r = await cli(p, ['build', '--report', 'report.json'])
    expect(r.code).toBe(2)
    const report = JSON.parse(await p.read('report.json'))
    const bySpec = Object.fromEntries(report.specs.map((s: { spec: string }) => [s.spec, s]))
    expect(bySpec['a.video.ts']).toMatchObject({ status: 'generated', generated: true, cached: false, cost: 0.05 })
    expect(bySpec['a.video.ts'].key).toMatch(/^[0-9a-f]{64}$/)
    expect(typeof bySpec['a.video.ts'].durationMs).toBe('number')
    expect(bySpec['bad.video.ts']).toMatchObject({ status: 'invalid', error: { code: 'SPEC_INVALID' } })
  })
})

describe('the lockfile', () => {
  it('pins each paid clip; a lost entry is restored from a cached object; a lost clip is explained', async () => {
    const p = await project(three)
    expect((await cli(p, ['build'])).code).toBe(0)
    const lock = JSON.parse(await p.read('vidspec.lock.json'))
    expect(Object.keys(lock.specs)).toEqual(['a.video.ts', 'b.video.ts', 'c.video.ts'])
    const a = lock.specs['a.video.ts']
    expect(a).toMatchObject({ provider: 'together', preview: false, mime: 'video/mp4', cost: 0.05 })
    expect(a.digest).toMatch(/^[0-9a-f]{64}$/)
    expect(a.jobId).toBe(fake.jobs.find((j) => (j.body as { prompt: string }).prompt === 'alpha')?.id)
    const lockText = await p.read('vidspec.lock.json')

    // A teammate with the shared objects but no entries (e.g. a restored CI cache of objects/).
    await rm(p.path('.vidspec', 'entries'), { recursive: true })
    const restored = await cli(p, ['build', '--frozen', '--json'])
    expect(restored.code, restored.stderr).toBe(0)
    expect(restored.stderr).toMatch(/restored the approved clip/)
    expect(fake.creates).toBe(3)
    expect(await p.read('vidspec.lock.json')).toBe(lockText)

    // No cache at all: CI stops and says which approved clip is missing...
    await rm(p.path('.vidspec'), { recursive: true })
    const frozen = await cli(p, ['build', '--frozen'])
    expect(frozen.code).toBe(3)
    expect(frozen.stderr).toContain(`the approved clip ${a.digest.slice(0, 12)} (vidspec.lock.json) is not in the cache`)
    expect(fake.creates).toBe(3)
    // ...and an allowed build regenerates with the same warning and re-pins.
    const again = await cli(p, ['build'])
    expect(again.code).toBe(0)
    expect(again.stderr).toMatch(/a new generation will differ from it/)
    expect(fake.creates).toBe(6)
    const relocked = JSON.parse(await p.read('vidspec.lock.json'))
    expect(relocked.specs['a.video.ts'].key).toBe(a.key)
    expect(relocked.specs['a.video.ts'].jobId).not.toBe(a.jobId)
  })

  it('gc keeps a clip the lockfile approves even when the spec moved on', async () => {
    const p = await project({ 'a.video.ts': togetherSpec('alpha') })
    expect((await cli(p, ['build'])).code).toBe(0)
    const locked = JSON.parse(await p.read('vidspec.lock.json')).specs['a.video.ts']
    await p.write('a.video.ts', togetherSpec('alpha, edited'))
    const gc = await cli(p, ['gc', '--json'])
    expect(gc.code).toBe(0)
    expect(JSON.parse(gc.stdout).removedEntries).toEqual([])
    await readFile(p.path('.vidspec', 'objects', `${locked.digest}.mp4`))
  })
})

describe('plan --explain', () => {
  it('says field by field what changed since approval, and what caused it', async () => {
    const brand = `export const brand = { look: 'teal' }\n`
    const spec = (prompt: string, steps: number, image?: string) =>
      "import { defineVideo } from '@vidspec/core'\nimport { brand } from './brand'\n" +
      `export default defineVideo({ model: 'minimax/hailuo-02', prompt: \`${prompt} \${brand.look}\`, seconds: 1, width: 1366, height: 768, steps: ${steps}${
        image ? `, media: { frame_images: [{ input_image: '${image}', frame: 'first' }] }` : ''
      } })\n`
    const p = await project({
      'brand.ts': brand,
      'hero.video.ts': spec('hero', 20),
      'keyframe.video.ts': spec('keyframe', 20, './first.png'),
      'solo.video.ts': togetherSpec('solo'),
    })
    await p.write('first.png', Buffer.concat([PNG_SIGNATURE, Buffer.from('an image, byte for byte')]))
    expect((await cli(p, ['build'])).code).toBe(0)

    await p.write('hero.video.ts', spec('hero', 30))
    await p.write('first.png', Buffer.concat([PNG_SIGNATURE, Buffer.from('an image, byte for bytes')]))
    await p.write('new.video.ts', togetherSpec('newcomer'))
    let r = await cli(p, ['plan', '--explain'])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      [
        'changed  hero.video.ts (against the lockfile)',
        '  steps: 20 → 30',
        '  caused by an edit of the spec file',
        'changed  keyframe.video.ts (against the lockfile)',
        '  media.frame_images[0].input_image: content changed',
        '  caused by the content of a referenced media file',
        'new      new.video.ts',
        '  never built: no lockfile entry and no earlier build',
        'cached   solo.video.ts',
        // The summary line, with the estimate from this store's earlier clips ($0.05 per second).
        '1 new, 2 changed, 1 cached, 0 invalid; estimated cost ~$0.15',
        '',
      ].join('\n'),
    )

    await p.write('hero.video.ts', spec('hero', 20))
    await p.write('first.png', Buffer.concat([PNG_SIGNATURE, Buffer.from('an image, byte for byte')]))
    await p.write('brand.ts', brand.replace('teal', 'amber'))
    r = await cli(p, ['plan', '--explain'])
    expect(r.stdout).toBe(
      [
        'changed  hero.video.ts (against the lockfile)',
        '  prompt: "hero teal" → "hero amber"',
        '  caused by a shared module: brand.ts (the spec file itself is unchanged)',
        'changed  keyframe.video.ts (against the lockfile)',
        '  prompt: "keyframe teal" → "keyframe amber"',
        '  caused by a shared module: brand.ts (the spec file itself is unchanged)',
        'new      new.video.ts',
        '  never built: no lockfile entry and no earlier build',
        'cached   solo.video.ts',
        // The summary line, with the estimate from this store's earlier clips ($0.05 per second).
        '1 new, 2 changed, 1 cached, 0 invalid; estimated cost ~$0.15',
        '',
      ].join('\n'),
    )
  })
})
