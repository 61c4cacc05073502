import { mkdir, readdir, rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { keptPlanAnswers, runCli, tempProject, type TempProject } from '../helpers/project.js'
import { FAST, togetherSpec } from '../helpers/together.js'

// The CLI finds its project like Vite and ESLint do, never creates a store it was not asked to
// fill, says so when there is nothing to build, and talks about usage in words a person can act on.

const offlineSpec = (prompt: string) =>
  "import { defineVideo } from '@vidspec/core'\n" +
  `export default defineVideo({ model: 'minimax/hailuo-02', prompt: ${JSON.stringify(prompt)}, seconds: 1, width: 160, height: 90, fps: 10 })\n`

const cli = (cwd: string, args: string[], env: Record<string, string | undefined> = {}) => runCli(args, { cwd, env: { CI: undefined, ...env } })

describe('finding the project', () => {
  it('searches upward from a subfolder for vidspec.config.*, and stops at the repository root', async () => {
    await using p = await tempProject({
      'site/vidspec.config.ts': "export default { provider: 'offline' }\n",
      'site/src/videos/a.video.ts': offlineSpec('a'),
      'site/src/deep/er/.keep': '',
    })
    const r = await cli(p.path('site/src/deep/er'), ['plan', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).specs.map((s: { spec: string }) => s.spec)).toEqual(['src/videos/a.video.ts'])
    // plan read the project; it created no store.
    expect(await readdir(p.path('site'))).not.toContain('.vidspec')

    // A repository boundary between the folder and the config: the search stops there.
    await mkdir(p.path('site/nested/.git'), { recursive: true })
    await p.write('site/nested/b.video.ts', offlineSpec('b'))
    const inner = await cli(p.path('site/nested'), ['plan', '--json'])
    expect(JSON.parse(inner.stdout).specs.map((s: { spec: string }) => s.spec)).toEqual(['b.video.ts'])
  })

  it('a --root that does not exist is exit 2 and creates nothing', async () => {
    await using p = await tempProject({})
    for (const command of ['build', 'plan', 'status', 'verify', 'gc', 'watch']) {
      const r = await cli(p.root, [command, '--root', 'missing'])
      expect(r.code, `${command}: ${r.stderr}`).toBe(2)
      expect(r.stderr).toBe(`vidspec ${command}: --root missing: no such folder (${p.path('missing')})\n`)
    }
    expect(await readdir(p.root)).toEqual([])
  })

  it('a folder without specs says so and gets no store, whatever the command', async () => {
    await using p = await tempProject({})
    for (const command of ['build', 'plan', 'status']) {
      const r = await cli(p.root, [command])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toContain(`no *.video.ts under ${p.root}; include: **/*.video.{ts,mts,js,mjs}`)
    }
    expect((await cli(p.root, ['verify'])).stdout).toMatch(/no store at .*: nothing to verify/)
    expect((await cli(p.root, ['gc'])).stdout).toMatch(/no store at .*: nothing to collect/)
    expect(await readdir(p.root)).toEqual([])
  })
})

describe('usage errors', () => {
  it('say what was wrong once, in words, with a suggestion', async () => {
    await using p = await tempProject({})
    const flag = await cli(p.root, ['build', '--frozn'])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toBe('vidspec build: unknown option --frozn; did you mean --frozen? Run "vidspec build --help" for its options.\n')
    const value = await cli(p.root, ['plan', '--root'])
    expect(value.stderr).toBe('vidspec plan: --root needs a value. Run "vidspec plan --help" for its options.\n')
    const positional = await cli(p.root, ['gc', 'dry-run'])
    expect(positional.stderr).toMatch(/^vidspec gc: unexpected argument "dry-run": this command takes only options \(did you mean --dry-run\?\)/)
    const command = await cli(p.root, ['biuld'])
    expect(command.code).toBe(2)
    expect(command.stderr).toMatch(/^vidspec: unknown command "biuld"; did you mean "build"\?/)
    const number = await cli(p.root, ['build', '--concurrency', 'two'])
    expect(number.stderr).toBe('vidspec build: --concurrency must be an integer >= 1 (got "two")\n')
    for (const r of [flag, value, positional, number]) expect(r.stderr).not.toMatch(/vidspec \w+: vidspec|ERR_PARSE|positional arguments/)
  })
})

describe('spec warnings', () => {
  it('each distinct one once per run with its specs in build and plan; one summary line in status, verify and gc', async () => {
    // 160x90 is not a documented size of hailuo-02: the same warning for three specs.
    // Hailuo's listed length and frame rate, so the size is the only thing to warn about.
    const sized = (prompt: string) => offlineSpec(prompt).replace('seconds: 1', 'seconds: 6').replace('fps: 10', 'fps: 25')
    await using p = await tempProject({
      'vidspec.config.ts': "export default { provider: 'offline' }\n",
      'a.video.ts': sized('alpha'),
      'b.video.ts': sized('beta'),
      'c.video.ts': sized('gamma'),
    })
    const size = 'width/height: 160x90 is not a documented size of minimax/hailuo-02 (1366x768, 1920x1080); the provider may refuse it'
    for (const command of ['build', 'plan']) {
      const r = await cli(p.root, [command])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toEqual([`warning: 3 specs (a.video.ts, b.video.ts, c.video.ts): ${size}`])
    }
    const status = await cli(p.root, ['status'])
    expect(status.stdout).toContain('warnings  1 distinct warning about 3 specs; run "vidspec plan" to see them')
    expect(status.stderr).not.toContain('warning:')
    const gc = await cli(p.root, ['gc'])
    expect(gc.stderr).toBe('vidspec gc: 1 distinct warning about 3 specs; run "vidspec plan" to see them\n')
    const verify = await cli(p.root, ['verify'])
    expect(verify.code, verify.stdout).toBe(0)
    expect(verify.stderr).toBe('vidspec verify: 1 distinct warning about 3 specs; run "vidspec plan" to see them\n')
  })
})

describe('build --out follows the previews policy of vite build', () => {
  it("refuses (exit 3, nothing written) under previews: 'error' and on CI, warns by default, allows when told", async () => {
    await using p = await tempProject({ 'vidspec.config.ts': "export default { provider: 'offline' }\n", 'a.video.ts': offlineSpec('a') })
    const ci = await cli(p.root, ['build', '--out', 'out'], { CI: 'true' })
    expect(ci.code, ci.stderr).toBe(3)
    expect(ci.stderr).toMatch(/vidspec build --out\) would ship offline previews[\s\S]*- a\.video\.ts/)
    // Refused before rendering anything, as vite build does: no output, no store.
    expect(await readdir(p.root)).not.toContain('out')
    expect(await readdir(p.root)).not.toContain('.vidspec')

    const warned = await cli(p.root, ['build', '--out', 'out'])
    expect(warned.code, warned.stderr).toBe(0)
    expect(warned.stderr).toMatch(/THIS BUILD SHIPS 1 OFFLINE PREVIEW/)
    // The clip, its default rendition (a fast-start MP4 at its size) and its poster.
    expect((await readdir(p.path('out'))).sort()).toEqual(['a.mp4', 'a.mp4-160w.mp4', 'a.poster-0s-jpg.jpg', 'manifest.json'])

    await p.write('vidspec.config.ts', "export default { provider: 'offline', previews: 'allow' }\n")
    const allowed = await cli(p.root, ['build', '--out', 'out2'], { CI: 'true' })
    expect(allowed.code, allowed.stderr).toBe(0)
    expect(allowed.stderr).not.toMatch(/THIS BUILD SHIPS/)
    // Without --out nothing ships: previews stay allowed in CI.
    await p.write('vidspec.config.ts', "export default { provider: 'offline' }\n")
    expect((await cli(p.root, ['build'], { CI: 'true' })).code).toBe(0)
  })
})

describe('--max-cost with a configured price', () => {
  const KEY = 'max-cost-key-0123456789'
  let fake: FakeTogether
  let p: TempProject
  beforeAll(async () => {
    fake = await startFakeTogether({ apiKey: KEY, jobDurationMs: 30 })
    // hailuo-02 has no published price: the config's is the only estimate, per video at 768p.
    const config = { ...FAST, prices: { 'minimax/hailuo-02': { perVideo: { '768p': 0.3, '1080p': 0.5 } } } }
    p = await tempProject({
      'vidspec.config.ts': `export default ${JSON.stringify(config)}\n`,
      'a.video.ts': togetherSpec('alpha'),
      'b.video.ts': togetherSpec('beta'),
    })
  })
  afterAll(async () => {
    await fake.close()
    await p.dispose()
  })
  const paid = (args: string[]) => cli(p.root, args, { TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: fake.baseURL })

  it('plan shows the estimate per spec and in total; the build refuses over budget and runs within it', async () => {
    const plan = await paid(['plan'])
    expect(plan.stdout).toMatch(/new\s+a\.video\.ts\s+~\$0\.30/)
    expect(plan.stdout).toMatch(/2 new, 0 changed, 0 cached, 0 invalid; estimated cost ~\$0\.60/)
    const over = await paid(['build', '--max-cost', '0.5'])
    expect(over.code, over.stderr).toBe(3)
    expect(over.stderr).toMatch(/would cost about \$0\.60/)
    expect(fake.creates).toBe(0)
    const within = await paid(['build', '--max-cost', '0.6'])
    expect(within.code, within.stderr).toBe(0)
    expect(fake.creates).toBe(2)
  })
})

describe('a reader that goes away early (`vidspec plan | head -1`)', () => {
  it('drops the output and ends as it would have, the build with its clips stored', async () => {
    await using p = await tempProject({
      'vidspec.config.ts': "export default { provider: 'offline' }\n",
      'src/a.video.ts': offlineSpec('a'),
      'src/b.video.ts': offlineSpec('b'),
    })
    // A store, so plans keep memos, and node_modules, so a plan keeps its answer (see plan-verdict.test.ts).
    await mkdir(p.path('.vidspec'))
    await mkdir(p.path('node_modules'))
    const gone = (args: string[], close: Array<'stdout' | 'stderr'> = ['stdout']) => runCli(args, { cwd: p.root, env: { CI: undefined }, close })

    // Output on both streams while it works, and its JSON at the end: neither reader is there.
    const build = await gone(['build', '--json'], ['stdout', 'stderr'])
    expect(build.code).toBe(0)
    const after = await cli(p.root, ['plan', '--json'])
    expect(JSON.parse(after.stdout).specs.map((s: { status: string }) => s.status)).toEqual(['cached', 'cached'])

    for (const args of [['plan'], ['plan', '--json'], ['status'], ['status', '--json'], ['--help']]) {
      const r = await gone(args)
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
      expect(r.stderr, args.join(' ')).not.toMatch(/EPIPE|Unhandled|\n\s+at /)
    }
    // The early answer of a repeated plan (kept over files settled for 2 s) writes through the same
    // streams. Only this query's answer is kept: the plans above may have kept theirs, on a slow machine.
    for (const file of await keptPlanAnswers(p)) await rm(p.path(file))
    await new Promise((r) => setTimeout(r, 2100))
    await cli(p.root, ['plan'])
    expect(await keptPlanAnswers(p)).toHaveLength(1)
    const replayed = await gone(['plan'])
    expect(replayed.code, replayed.stderr).toBe(0)
    expect(replayed.stderr).not.toMatch(/EPIPE|Unhandled|\n\s+at /)
  })
})
