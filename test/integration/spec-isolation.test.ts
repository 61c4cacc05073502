import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { runCli, tempProject, type TempProject } from '../helpers/project.js'
import { FAST, spawnCli, togetherSpec } from '../helpers/together.js'
import { waitFor } from '../helpers/wait.js'

// Specs are evaluated in worker threads with a timeout (issue 11.8): a spec that never settles,
// loops, or keeps the event loop alive is that spec's SPEC_LOAD_FAILED, the others still build,
// and the process ends (and stops at once on a signal).

const API_KEY = 'isolation-key'
const TIMEOUT_MS = 1500

let fake: FakeTogether
const projects: TempProject[] = []

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 60 })
})
beforeEach(() => fake.reset())
afterAll(async () => {
  await fake.close()
  await Promise.all(projects.map((p) => p.dispose()))
})

async function project(files: Record<string, string>, config: object = {}): Promise<TempProject> {
  const p = await tempProject({ 'vidspec.config.ts': `export default ${JSON.stringify({ ...FAST, specTimeoutMs: TIMEOUT_MS, ...config })}\n`, ...files })
  projects.push(p)
  return p
}

const env = () => ({ TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: undefined })

/** A spec that does `body` at top level before exporting a valid spec. */
const misbehaving = (body: string, prompt: string) => `${body}\n${togetherSpec(prompt)}`

interface BuildJson {
  counts: Record<string, number>
  specs: Array<{ spec: string; status: string; error?: { code: string; message: string } }>
}

describe('specs that never finish', () => {
  it('names each one with the timeout, exits 2, builds the others, and the process ends', async () => {
    const p = await project({
      'clip-0.video.ts': togetherSpec('clip 0'),
      'clip-1.video.ts': togetherSpec('clip 1'),
      'never.video.ts': misbehaving('await new Promise(() => {})', 'never'),
      'loop.video.ts': misbehaving('while (true) {}', 'loop'),
      'timer.video.ts': misbehaving('setInterval(() => {}, 50)', 'timer'),
    })
    const r = await runCli(['build', '--json'], { cwd: p.root, env: env(), timeoutMs: 60_000 })
    // Ended on its own: not killed by the harness's guard.
    expect(r.signal).toBeNull()
    expect(r.code, r.stderr).toBe(2)
    const json = JSON.parse(r.stdout) as BuildJson
    expect(json.counts).toMatchObject({ generated: 2, invalid: 3, failed: 0 })
    expect(fake.creates).toBe(2)
    const bySpec = Object.fromEntries(json.specs.map((s) => [s.spec, s]))
    for (const id of ['never.video.ts', 'loop.video.ts', 'timer.video.ts']) {
      expect(bySpec[id]?.status, id).toBe('invalid')
      expect(bySpec[id]?.error?.code, id).toBe('SPEC_LOAD_FAILED')
      expect(bySpec[id]?.error?.message, id).toContain(p.path(id))
    }
    expect(bySpec['never.video.ts']?.error?.message).toMatch(/never finished evaluating: its top-level code awaits a promise that can never settle .*specTimeoutMs in vidspec\.config \(1\.5 s\)/)
    expect(bySpec['loop.video.ts']?.error?.message).toMatch(/did not finish evaluating within 1\.5 s .*specTimeoutMs/)
    expect(bySpec['timer.video.ts']?.error?.message).toMatch(/kept running for more than 1\.5 s after evaluating .*specTimeoutMs/)
    expect(bySpec['clip-0.video.ts']?.status).toBe('generated')
    expect(bySpec['clip-1.video.ts']?.status).toBe('generated')
  })

  it.each(['SIGTERM', 'SIGINT'] as const)('%s during a looping spec stops the process promptly', async (sig) => {
    const marker = 'evaluating.marker'
    const p = await project(
      {
        'loop.video.ts': misbehaving(`import { writeFileSync } from 'node:fs'\nwriteFileSync(${JSON.stringify(marker)}, 'x')\nwhile (true) {}`, 'loop'),
        'clip-0.video.ts': togetherSpec('clip 0'),
      },
      // Far longer than the test: only the signal can end this evaluation.
      { specTimeoutMs: 600_000 },
    )
    const child = spawnCli(['build'], { cwd: p.root, env: env() })
    try {
      // The spec writes the marker (relative to the CLI's cwd) right before its loop.
      await waitFor('the spec to start looping', () => existsSync(p.path(marker)), 30_000)
      child.child.kill(sig)
      // A hang guard only: the real bound (2 s) is not asserted on a shared machine.
      const ended = await Promise.race([child.done, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))])
      expect(ended, child.output().stderr).not.toBe('hung')
      if (ended !== 'hung') expect(ended.code).toBe(130)
      expect(fake.creates).toBe(0)
    } finally {
      await child.stop()
    }
  })
})

describe('spec outputs', () => {
  it.each([
    ['hero.video.ts and hero.video.mts', { 'hero.video.ts': togetherSpec('a'), 'hero.video.mts': togetherSpec('b') }, '"hero"'],
    ['names equal up to case', { 'Hero.video.ts': togetherSpec('a'), 'hero.video.ts': togetherSpec('b') }, 'equal up to case'],
  ])('refuses %s before any work, naming both files', async (_what, files, said) => {
    const p = await project({ ...files, 'other.video.ts': togetherSpec('other') }, { include: ['**/*.video.ts', '**/*.video.mts'] })
    const r = await runCli(['build', '--out', 'out'], { cwd: p.root, env: env() })
    expect(r.code, r.stderr).toBe(2)
    for (const file of Object.keys(files)) expect(r.stderr).toContain(file)
    expect(r.stderr).toContain(said)
    expect(r.stderr).toMatch(/overwrite/)
    expect(fake.creates).toBe(0)
    expect(existsSync(p.path('out'))).toBe(false)
  })

  it('refuses a spec outside the root matched by a ../ glob, so --out never writes outside the out folder', async () => {
    const outer = await tempProject({ 'x/hero.video.ts': togetherSpec('outside'), 'site/inside.video.ts': togetherSpec('inside') })
    projects.push(outer)
    await outer.write(
      'site/vidspec.config.ts',
      `export default ${JSON.stringify({ ...FAST, include: ['**/*.video.ts', '../x/*.video.ts'] })}\n`,
    )
    const before = (await readdir(outer.root)).sort()
    const r = await runCli(['build', '--out', 'out'], { cwd: outer.path('site'), env: env() })
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toContain(outer.path('x/hero.video.ts'))
    expect(r.stderr).toMatch(/outside the project root/)
    expect(fake.creates).toBe(0)
    // Nothing new beside the project, nothing in the spec's own folder.
    expect((await readdir(outer.root)).sort()).toEqual(before)
    expect(await readdir(outer.path('x'))).toEqual(['hero.video.ts'])
  })
})

describe('local media', () => {
  const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52])
  const withImage = (ref: string) =>
    "import { defineVideo } from '@vidspec/core'\n" +
    `export default defineVideo({ model: 'minimax/hailuo-02', prompt: 'p', seconds: 1, width: 1366, height: 768, media: { frame_images: [{ input_image: ${JSON.stringify(ref)}, frame: 'first' }] } })\n`
  const withAudio = (ref: string) =>
    "import { defineVideo } from '@vidspec/core'\n" +
    `export default defineVideo({ model: 'Wan-AI/wan2.7-t2v', prompt: 'p', resolution: '720P', ratio: '1:1', seconds: 2, media: { audio_inputs: [${JSON.stringify(ref)}] } })\n`

  it('refuses a symlink out of the project, an absolute path outside, a text file named .png and an image in an audio field, before any request', async () => {
    const secret = await tempProject({ 'notes.txt': 'password=hunter2\n', 'outside.png': Buffer.concat([PNG, Buffer.from('real png head')]).toString('latin1') })
    projects.push(secret)
    const p = await project({
      'link.video.ts': withImage('./assets/link.png'),
      'absolute.video.ts': withImage(secret.path('outside.png')),
      'text.video.ts': withImage('./assets/fake.png'),
      'audio.video.ts': withAudio('./assets/voice.mp3'),
      'ok.video.ts': togetherSpec('ok'),
    })
    const { symlink, writeFile } = await import('node:fs/promises')
    await p.write('assets/fake.png', 'this is text, not a PNG\n')
    await writeFile(p.path('assets/voice.mp3'), Buffer.concat([PNG, Buffer.from('an image')]))
    await symlink(secret.path('notes.txt'), p.path('assets/link.png'))

    const r = await runCli(['build', '--json'], { cwd: p.root, env: env() })
    expect(r.code, r.stderr).toBe(2)
    const json = JSON.parse(r.stdout) as BuildJson
    const bySpec = Object.fromEntries(json.specs.map((s) => [s.spec, s]))
    const message = (id: string) => {
      expect(bySpec[id]?.error?.code, id).toBe('SPEC_INVALID')
      return bySpec[id]?.error?.message ?? ''
    }
    // Each names the spec, the field, the value and what is allowed.
    expect(message('link.video.ts')).toMatch(/^link\.video\.ts: .*\n.*media\.frame_images\[0\]\.input_image: a file inside the project .* links to .*notes\.txt, outside it \(got "\.\/assets\/link\.png"\)/)
    expect(message('absolute.video.ts')).toMatch(/media\.frame_images\[0\]\.input_image: .*outside\.png is outside it \(got ".*outside\.png"\)/)
    expect(message('text.video.ts')).toMatch(/an image file \(PNG, JPEG, WebP or GIF\); .*fake\.png is not one: its bytes look like text \(got "\.\/assets\/fake\.png"\)/)
    expect(message('audio.video.ts')).toMatch(/media\.audio_inputs\[0\]: a WAV or MP3 file of 3 to 30 seconds and at most 15 MB; .*voice\.mp3 is an image file \(PNG\) \(got "\.\/assets\/voice\.mp3"\)/)
    // One issue per bad field: no second "never resolved (internal error)" line.
    for (const id of ['link.video.ts', 'absolute.video.ts', 'text.video.ts', 'audio.video.ts']) {
      expect(message(id), id).toMatch(/1 problem/)
      expect(message(id), id).not.toMatch(/never resolved/)
    }
    // Invalid input never costs money: the only create is the valid spec's.
    expect(fake.creates).toBe(1)
    expect([...fake.createsByPrompt.keys()]).toEqual(['ok'])
    expect(JSON.stringify(fake.jobs.map((j) => j.body))).not.toContain(Buffer.from('password=hunter2').toString('base64').slice(0, 12))
  })

  it('takes a file from a folder listed in media.allow', async () => {
    const shared = await tempProject({})
    projects.push(shared)
    const png = await readFile(new URL('../../examples/site/src/assets/first-frame.png', import.meta.url))
    await shared.write('first.png', png)
    const p = await project({ 'hero.video.ts': withImage(shared.path('first.png')) }, { media: { allow: [shared.root] } })
    const r = await runCli(['build', '--json'], { cwd: p.root, env: env() })
    expect(r.code, r.stderr).toBe(0)
    expect(fake.creates).toBe(1)
  })
})

describe('vidspec watch with misbehaving specs', () => {
  it('reports an unhandled rejection, a throwing timer and a loop as those specs errors, and keeps processing edits', async () => {
    const p = await project({
      'ok.video.ts': togetherSpec('ok'),
      'rejects.video.ts': misbehaving("void Promise.reject(new Error('rejected later'))", 'rejects'),
      'timer.video.ts': misbehaving("setTimeout(() => { throw new Error('timer threw') }, 5)", 'timer'),
      'loop.video.ts': misbehaving('while (true) {}', 'loop'),
    })
    const w = spawnCli(['watch', '--debounce', '40'], { cwd: p.root, env: { ...env(), CI: 'true' } })
    try {
      const lines = () => w.output().stderr.split('\n')
      const line = (kind: string, spec: string) => lines().filter((l) => new RegExp(`^${kind}\\s+${spec.replace('.', '\\.')}\\b`).test(l))
      await waitFor('the first pass', () => line('done', 'ok.video.ts').length === 1 && line('invalid', 'loop.video.ts').length === 1, 30_000)
      expect(line('invalid', 'rejects.video.ts')[0]).toMatch(/threw after evaluating \(an unhandled rejection or a throwing timer\): rejected later/)
      expect(line('invalid', 'timer.video.ts')[0]).toMatch(/threw after evaluating .*: timer threw/)
      expect(line('invalid', 'loop.video.ts')[0]).toMatch(/did not finish evaluating within 1\.5 s/)

      // Still alive, still answering edits: fixing a broken spec and editing a good one both build.
      await p.write('rejects.video.ts', togetherSpec('rejects fixed'))
      await waitFor('the fixed spec built', () => line('done', 'rejects.video.ts').length === 1, 30_000)
      await p.write('ok.video.ts', togetherSpec('ok two'))
      await waitFor('the edited spec built', () => line('done', 'ok.video.ts').length === 2, 30_000)
      await p.write('timer.video.ts', misbehaving("setTimeout(() => { throw new Error('timer threw again') }, 5)", 'timer'))
      await waitFor('the timer spec reported again', () => line('invalid', 'timer.video.ts').length === 2, 30_000)
      expect(w.child.exitCode).toBeNull()
      expect([...fake.createsByPrompt.keys()].sort()).toEqual(['ok', 'ok two', 'rejects fixed'])
    } finally {
      w.child.kill('SIGTERM')
      await Promise.race([w.done, new Promise((r) => setTimeout(r, 10_000))])
      await w.stop()
    }
  })
})
