import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeTogether, type Fault, type FakeTogether } from '../fake-together/server.js'
import type { TempProject } from '../helpers/project.js'
import { cliBuild, duplicateCreates, expectValidClips } from '../helpers/pay-once.js'
import { FAST, journalFiles, spawnCli, storeShape, togetherProject, togetherSpec, type CliChild } from '../helpers/together.js'
import { waitFor } from '../helpers/wait.js'

// The CLI is SIGKILLed at every step of a paid job, then run again: exactly one create per key, every
// stored clip whole, and every job the fake ran either stored or journaled. Where the process died
// with a create sent but its answer unrecorded, the key is uncertain (never created again on its own)
// and that is what the rerun must say. Kill points are exact: a hook in the runner
// (VIDSPEC_TEST_KILL_AT) or the fake holding a request, never a timed sleep. Each point has its own
// project and prompt, counted per prompt on one fake; the last test sums duplicates over all of them.

const API_KEY = 'tg-pay-once-sweep-0d4b7e19c2a6f385'

let fake: FakeTogether
const projects: TempProject[] = []
const children: CliChild[] = []

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 60 })
})
afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()))
  await Promise.all(projects.map((p) => p.dispose()))
  await fake?.close()
})

const env = (extra: Record<string, string> = {}) => ({ TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: undefined, ...extra })

/** What the store must hold after the process died, and what the rerun must do. */
type After =
  /** Died before the create was sent: nothing recorded, the rerun creates. */
  | 'nothing-sent'
  /** The intent was on disk and the request may have left: uncertain (the fake made no job). */
  | 'uncertain, no job'
  /** The job exists, its id never reached the journal: uncertain, never created again. */
  | 'uncertain, job made'
  /** The job id was journaled: the rerun resumes it without a new create. */
  | 'resumes'

interface KillPoint {
  name: string
  after: After
  hook?: string
  fault?: Fault
  /** Kill once this holds (instead of a hook); `storeDir` is the point's own store. */
  killWhen?: (storeDir: string) => boolean | Promise<boolean>
}

const POINTS: KillPoint[] = [
  { name: 'lock held, before the intent', hook: 'before-intent', after: 'nothing-sent' },
  { name: 'intent written, request not yet sent', hook: 'after-intent', after: 'uncertain, no job' },
  {
    name: 'create sent, no job yet (the server holds the request)',
    fault: { kind: 'hang' },
    killWhen: () => fake.log.some((r) => r.outcome === 'hung' && r.fault === 'hang'),
    after: 'uncertain, no job',
  },
  { name: 'job made, answer in flight', fault: { kind: 'hold-after-create' }, killWhen: () => fake.held === 1, after: 'uncertain, job made' },
  { name: 'answer received, before the journal write', hook: 'after-create-answer', after: 'uncertain, job made' },
  { name: 'job id journaled', hook: 'after-journal', after: 'resumes' },
  { name: 'during polls (after the first)', hook: 'after-poll', after: 'resumes' },
  {
    name: 'during the download',
    fault: { kind: 'download-slow', chunkBytes: 512, delayMs: 20 },
    killWhen: async (storeDir) => {
      const [temp] = (await storeShape(storeDir)).tmp
      return temp !== undefined && ((await stat(join(storeDir, 'tmp', temp)).catch(() => undefined))?.size ?? 0) >= 1024
    },
    after: 'resumes',
  },
  { name: 'downloaded, before the commit', hook: 'before-commit', after: 'resumes' },
  { name: 'committed, before the journal is dropped', hook: 'after-commit', after: 'resumes' },
]

/** The fake's view of one point: its prompt's requests, creates and jobs. */
function counts(prompt: string) {
  const jobs = fake.jobs.filter((j) => j.body.prompt === prompt)
  return { posts: fake.postsByPrompt.get(prompt) ?? 0, creates: fake.createsByPrompt.get(prompt) ?? 0, jobs: jobs.map((j) => j.id) }
}

describe('crash sweep: SIGKILL at every step of a paid job, then run again', () => {
  it.each(POINTS.map((p, i) => [p.name, p, i] as const))('%s', async (_name, point, i) => {
    const prompt = `sweep ${i}`
    const project = await togetherProject(0)
    projects.push(project)
    await project.write('clip.video.ts', togetherSpec(prompt))
    const storeDir = join(project.root, '.vidspec')
    if (point.fault) fake.fault({ ...point.fault, match: { prompt } } as Fault)
    if (point.hook) {
      const killed = await cliBuild(project.root, env({ VIDSPEC_TEST_KILL_AT: point.hook }))
      expect(killed.signal, killed.stderr).toBe('SIGKILL')
    } else {
      const running = spawnCli(['build', '--json'], { cwd: project.root, env: env() })
      children.push(running)
      await waitFor(`kill point: ${point.name}`, async () => {
        if (running.child.exitCode !== null) throw new Error(`vidspec exited early: ${running.output().stderr}`)
        return (await point.killWhen?.(storeDir)) ?? false
      })
      running.child.kill('SIGKILL')
      expect((await running.done).signal).toBe('SIGKILL')
    }
    const before = counts(prompt)
    const left = await journalFiles(storeDir)
    expect((await storeShape(storeDir)).entries.length).toBeLessThanOrEqual(1)

    const rerun = await cliBuild(project.root, env())
    const outcome = rerun.json?.specs[0]
    const now = counts(prompt)
    switch (point.after) {
      case 'nothing-sent':
        expect(before.posts).toBe(0)
        expect(left).toEqual([])
        expect(outcome?.status, rerun.stderr).toBe('generated')
        expect(now.creates).toBe(1)
        break
      case 'uncertain, no job':
      case 'uncertain, job made': {
        // The intent survived the kill, without a job id, and the rerun sends nothing.
        expect(left).toHaveLength(1)
        expect(left[0]?.jobId).toBeUndefined()
        expect(outcome?.error?.code, rerun.stderr).toBe('PROVIDER_CREATE_UNCERTAIN')
        expect(now.posts).toBe(before.posts)
        expect(now.creates).toBe(point.after === 'uncertain, job made' ? 1 : 0)
        if (point.after === 'uncertain, no job') {
          // A person checked: no job ran. Now, and only now, it is created: once.
          const retried = await cliBuild(project.root, env(), ['--retry-uncertain'])
          expect(retried.json?.specs[0]?.status, retried.stderr).toBe('generated')
          expect(counts(prompt).creates).toBe(1)
          expect((await storeShape(storeDir)).uncertain).toEqual([])
        }
        break
      }
      case 'resumes':
        expect(left.map((j) => j.jobId)).toEqual(before.jobs)
        expect(['generated', 'cached'], rerun.stderr).toContain(outcome?.status)
        expect(now.creates).toBe(1)
        expect(await journalFiles(storeDir)).toEqual([])
        break
    }
    expect(counts(prompt).creates).toBeLessThanOrEqual(1)
    const entries = await expectValidClips(storeDir)
    if (point.after !== 'uncertain, job made') {
      // Every job the fake ran for this key is the stored clip's: no paid job id lost.
      expect(entries.map((e) => e.jobId)).toEqual(counts(prompt).jobs)
    }
  })

  it("killed while a finished job's download waits for the next spec's create (the server holds it)", async () => {
    // One slot: A is done and has handed its slot to B, whose create the fake holds; A's download
    // waits for B's answer (runner/creates-first.ts). Killed right there: A's paid job is resumed,
    // never created again, and B's sent create is uncertain.
    const [a, b] = ['held download A', 'held download B']
    const project = await togetherProject(0, { ...FAST, concurrency: 1 })
    projects.push(project)
    await project.write('a.video.ts', togetherSpec(a))
    await project.write('b.video.ts', togetherSpec(b))
    const storeDir = join(project.root, '.vidspec')
    fake.fault({ kind: 'hang', op: 'create', match: { prompt: b } } as Fault)
    // This test's requests: the fake's log also holds the points' before it.
    const from = fake.log.length
    const ours = () => fake.log.slice(from)
    const running = spawnCli(['build', '--json'], { cwd: project.root, env: env() })
    children.push(running)
    await waitFor("B's create held", () => {
      if (running.child.exitCode !== null) throw new Error(`vidspec exited early: ${running.output().stderr}`)
      return ours().some((r) => r.outcome === 'hung' && r.fault === 'hang')
    })
    running.child.kill('SIGKILL')
    expect((await running.done).signal).toBe('SIGKILL')
    const [jobA] = counts(a).jobs
    expect(counts(a).creates).toBe(1)
    // Killed inside the wait: A's result was never asked for.
    expect(ours().filter((r) => r.route === 'GET /shrt/:token')).toEqual([])
    const left = await journalFiles(storeDir)
    expect(left.map((j) => j.jobId).sort()).toEqual([jobA, undefined].sort())
    const postsB = counts(b).posts

    const rerun = await cliBuild(project.root, env())
    const status = Object.fromEntries((rerun.json?.specs ?? []).map((sp) => [sp.spec, sp]))
    expect(status['a.video.ts']?.status, rerun.stderr).toBe('generated')
    expect(status['b.video.ts']?.error?.code, rerun.stderr).toBe('PROVIDER_CREATE_UNCERTAIN')
    expect(counts(a).creates).toBe(1)
    expect(counts(b)).toMatchObject({ posts: postsB, creates: 0 })
    const entries = await expectValidClips(storeDir)
    expect(entries.map((e) => e.jobId)).toEqual([jobA])
  })

  it('paid for nothing twice across the whole sweep', () => {
    expect(duplicateCreates(fake)).toBe(0)
  })
})
