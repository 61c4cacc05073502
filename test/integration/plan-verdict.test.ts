import { readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { keptPlanAnswers, runCli, tempProject, type CliResult, type TempProject } from '../helpers/project.js'

// A no-op `vidspec plan` is answered from the last plan's output while every file and folder that
// answer rested on is unchanged (packages/core/src/plan/verdict.ts), before the CLI loads. Hostile:
// each test arms a verdict whose output carries a marker (so a replay shows itself), makes one change
// of the kind a user, a tool or a teammate makes, and checks the next plan ran in full and says what
// is true now. A change that keeps a file's size and mtime is still seen (ctime), as the memos see it.

const spec = (prompt: string) =>
  "import { defineVideo } from '@vidspec/core'\nimport { look } from './look'\n" +
  `export default defineVideo({ model: 'minimax/hailuo-02', prompt: ${JSON.stringify(prompt)} + look, seconds: 6, width: 160, height: 90, fps: 25 })\n`

const MARKER = 'REPLAYED FROM THE VERDICT\n'
/** Files changed in the last 2 s are never vouched for (RACY_MS): wait until they have settled. */
const settle = () => new Promise((r) => setTimeout(r, 2100))

let p: TempProject
const plan = (args: string[] = [], env: Record<string, string | undefined> = {}): Promise<CliResult> =>
  runCli(['plan', ...args], { cwd: p.root, env: { CI: undefined, ...env } })

/** Rewrites a file with `text`, its mtime put back: only the ctime tells. */
async function rewriteKeepingMtime(path: string, text: string): Promise<void> {
  const before = await stat(p.path(path))
  await writeFile(p.path(path), text)
  await utimes(p.path(path), before.atime, before.mtime)
}

/**
 * Makes the next no-op plan come from a verdict that says MARKER, and proves it does: a full plan over
 * settled files records the verdict (the second, when the first had to evaluate a spec the memo did
 * not know: only remembered specs are vouched for), the marker is added to its output, and a plan
 * then prints it.
 */
async function arm(args: string[] = []): Promise<CliResult> {
  await dropVerdicts()
  await settle()
  let full = await plan(args)
  if ((await verdicts()).length === 0) full = await plan(args)
  expect(full.code, full.stderr).toBe(0)
  const file = await theVerdict()
  const verdict = JSON.parse(await p.read(file)) as { output: Array<[number, string]> }
  verdict.output.push([1, MARKER])
  await p.write(file, JSON.stringify(verdict))
  const replayed = await plan(args)
  expect(replayed.stdout).toBe(full.stdout + MARKER)
  expect(replayed.stderr).toBe(full.stderr)
  return full
}

/** The kept answers' files, one per query (relative to the project). */
const verdicts = (): Promise<string[]> => keptPlanAnswers(p)

async function dropVerdicts(): Promise<void> {
  for (const file of await verdicts()) await rm(p.path(file))
}

/** The one answer kept (these tests plan one query at a time). */
async function theVerdict(): Promise<string> {
  const files = await verdicts()
  expect(files).toHaveLength(1)
  return files[0] as string
}

beforeAll(async () => {
  p = await tempProject({
    'vidspec.config.ts': "export default { provider: 'offline' }\n",
    'src/look.ts': "export const look = ', soft light'\n",
    'src/a.video.ts': spec('alpha'),
    'src/b.video.ts': spec('beta'),
    // Where a site keeps its dependencies; the verdict lives in node_modules/.cache/vidspec.
    'node_modules/.keep': '',
  })
  const built = await runCli(['build'], { cwd: p.root, env: { CI: undefined } })
  expect(built.code, built.stderr).toBe(0)
})
afterAll(async () => {
  await p.dispose()
})

describe('the no-op plan answered from its verdict', () => {
  it('prints exactly what the full plan printed, exit code and warnings included, and writes nothing', async () => {
    await settle()
    const full = await plan()
    expect(full.code).toBe(0)
    expect(full.stdout).toBe('cached   src/a.video.ts\ncached   src/b.video.ts\n0 new, 0 changed, 2 cached, 0 invalid\n')
    expect(full.stderr).toMatch(/^warning: 2 specs \(src\/a\.video\.ts, src\/b\.video\.ts\): width\/height: 160x90/)
    const file = await theVerdict()
    const recorded = await stat(p.path(file))
    const again = await plan()
    expect(again).toEqual(full)
    // Not written again: the second answer came from it, not from a plan that recorded it anew.
    const unchanged = async () => {
      const after = await stat(p.path(file))
      expect([after.ino, after.mtimeMs]).toEqual([recorded.ino, recorded.mtimeMs])
    }
    await unchanged()

    // Another query keeps its own answer beside it: the two in turn are both answered.
    const json = await plan(['--json'])
    expect(JSON.parse(json.stdout).specs.map((s: { status: string }) => s.status)).toEqual(['cached', 'cached'])
    expect(await verdicts()).toHaveLength(2)
    expect(await plan(['--json'])).toEqual(json)
    expect(await plan()).toEqual(full)
    await unchanged()
  })

  it('sees an edit of a shared module that kept its size and mtime', async () => {
    await arm()
    await rewriteKeepingMtime('src/look.ts', "export const look = ', hard light'\n")
    const r = await plan()
    expect(r.stdout).not.toContain(MARKER)
    expect(r.stdout).toContain('0 new, 2 changed, 0 cached, 0 invalid')
    await rewriteKeepingMtime('src/look.ts', "export const look = ', soft light'\n")
  })

  it('sees a spec added, and one removed', async () => {
    await arm()
    await p.write('src/c.video.ts', spec('gamma'))
    const added = await plan()
    expect(added.stdout).not.toContain(MARKER)
    expect(added.stdout).toContain('1 new, 0 changed, 2 cached, 0 invalid')
    await rm(p.path('src/c.video.ts'))

    await arm()
    const b = await p.read('src/b.video.ts')
    await rm(p.path('src/b.video.ts'))
    const removed = await plan()
    expect(removed.stdout).not.toContain(MARKER)
    expect(removed.stdout).toBe('cached   src/a.video.ts\n0 new, 0 changed, 1 cached, 0 invalid\n')
    await p.write('src/b.video.ts', b)
  })

  it('sees the config rewritten, a config file that would take its place, the spec memo deleted and a lockfile appearing', async () => {
    await arm()
    await rewriteKeepingMtime('vidspec.config.ts', "export default { provider: 'offline' }\n")
    expect((await plan()).stdout).not.toContain(MARKER)

    await arm()
    await p.write('vidspec.config.mts', "export default { provider: 'offline' }\n")
    expect((await plan()).stdout).not.toContain(MARKER)
    await rm(p.path('vidspec.config.mts'))

    // Deleting the spec memo asks for every spec to be evaluated again: so it is.
    await arm()
    await rm(p.path('.vidspec/memo'), { recursive: true })
    expect((await plan()).stdout).not.toContain(MARKER)

    await arm()
    await p.write('vidspec.lock.json', '{"version":1,"specs":{}}\n')
    const locked = await plan()
    expect(locked.stdout).not.toContain(MARKER)
    expect(locked.stdout).toContain('2 cached')
    await rm(p.path('vidspec.lock.json'))
  })

  it('sees a clip removed from the store, and a clip whose bytes changed in place', async () => {
    await arm()
    const entries = await readdir(p.path('.vidspec/entries'))
    expect(entries).toHaveLength(2)
    const entry = await readFile(p.path('.vidspec/entries', entries[0] as string))
    await rm(p.path('.vidspec/entries', entries[0] as string))
    const gone = await plan()
    expect(gone.stdout).not.toContain(MARKER)
    expect(gone.stdout).toMatch(/1 (new|changed), 1 cached/)
    await writeFile(p.path('.vidspec/entries', entries[0] as string), entry)

    await arm()
    const objects = (await readdir(p.path('.vidspec/objects'))).filter((f) => f.endsWith('.mp4'))
    const object = p.path('.vidspec/objects', objects[0] as string)
    const bytes = await readFile(object)
    const before = await stat(object)
    const flipped = Buffer.from(bytes)
    flipped[flipped.length >> 1] = (flipped[flipped.length >> 1] as number) ^ 0xff
    await writeFile(object, flipped)
    await utimes(object, before.atime, before.mtime)
    const corrupt = await plan()
    expect(corrupt.stdout).not.toContain(MARKER)
    // The full plan hashed the changed object and found it corrupt: that spec is no longer cached.
    expect(corrupt.stdout).toMatch(/1 (new|changed), 1 cached/)
  })

  it('is not used for other arguments or another environment', async () => {
    await settle()
    // The clip made corrupt above was quarantined: build it again first.
    expect((await runCli(['build'], { cwd: p.root, env: { CI: undefined } })).code).toBe(0)
    await arm()
    expect((await plan(['--explain'])).stdout).not.toContain(MARKER)
    await arm()
    expect((await plan([], { TOGETHER_API_KEY: 'sk-test' })).stdout).not.toContain(MARKER)
    await arm()
    expect((await plan([], { CI: 'true' })).stdout).not.toContain(MARKER)
  })

  it('is never recorded over files that changed less than 2 s before the plan, nor with VIDSPEC_NO_MEMO', async () => {
    await settle()
    await dropVerdicts()
    await rewriteKeepingMtime('src/a.video.ts', spec('alpha'))
    expect((await plan()).code).toBe(0)
    expect((await plan()).code).toBe(0)
    expect(await verdicts()).toEqual([])

    await settle()
    expect((await plan([], { VIDSPEC_NO_MEMO: '1' })).code).toBe(0)
    expect((await plan([], { VIDSPEC_NO_MEMO: '1' })).code).toBe(0)
    expect(await verdicts()).toEqual([])
    // Nor in CI, where a checkout is planned once.
    expect((await plan([], { CI: 'true' })).code).toBe(0)
    expect((await plan([], { CI: 'true' })).code).toBe(0)
    expect(await verdicts()).toEqual([])
    // And without it, now that every file settled, a plan keeps one.
    expect((await plan()).code).toBe(0)
    expect((await plan()).code).toBe(0)
    expect(await verdicts()).toHaveLength(1)
  })

  it('a torn or garbled verdict is a full plan', async () => {
    const full = await arm()
    const file = await theVerdict()
    const text = await p.read(file)
    await p.write(file, text.slice(0, text.length >> 1))
    expect(await plan()).toEqual(full)
    await p.write(file, text.replace(/"exitCode":0/, '"exitCode":"0"'))
    expect(await plan()).toEqual(full)
  })
})
