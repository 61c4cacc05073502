import { rm } from 'node:fs/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { tempProject, type TempProject } from '../helpers/project.js'
import { FAST, journals, spawnCli, type CliChild } from '../helpers/together.js'
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
})
