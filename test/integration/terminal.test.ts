import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { cliPath, tempProject, type TempProject } from '../helpers/project.js'
import { openTerminal, type Terminal } from '../helpers/tmux.js'
import { until } from '../helpers/wait.js'
import { FAST, togetherSpec } from '../helpers/together.js'

// What a person sees in a real terminal, after every redraw: each spec's outcome once, nothing
// erased, no row left half-drawn, the summary last. Read from the final screen of a pseudo-terminal.

const KEY = 'terminal-key-0123456789'
let fake: FakeTogether
const opened: Terminal[] = []
const projects: TempProject[] = []

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: KEY, jobDurationMs: 250 })
})
afterAll(async () => {
  for (const t of opened) await t.close()
  for (const p of projects) await p.dispose()
  await fake.close()
})

async function terminal(p: TempProject, args: string[]) {
  const t = await openTerminal([process.execPath, cliPath, ...args], {
    cwd: p.root,
    env: { TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: fake.baseURL },
    columns: 64,
    rows: 20,
  })
  opened.push(t)
  return t
}

const lines = (screen: string) => screen.split('\n').map((l) => l.trimEnd())
const count = (screen: string, re: RegExp) => lines(screen).filter((l) => re.test(l)).length
/** A live row (state, spec, time so far), as opposed to a settled line or a watch decision (`... key ...`). */
const LIVE_ROW = /^(queued|generating|waiting)\s+\S+ \d/

describe('on a real terminal', () => {
  it('build: every spec settles into one line, long rows never wrap into the redraw, the summary stays last', async () => {
    // Names wider than the terminal: a wrapped live row would make the redraw erase a line above it.
    const names = Array.from({ length: 6 }, (_, i) => `spec-${i}-with-a-name-long-enough-to-pass-the-right-edge`)
    const files: Record<string, string> = { 'vidspec.config.ts': `export default ${JSON.stringify({ ...FAST, concurrency: 2 })}\n` }
    for (const n of names) files[`${n}.video.ts`] = togetherSpec(n)
    const p = await tempProject(files)
    projects.push(p)

    const first = await terminal(p, ['build'])
    const screen = await first.waitFor(/\[exit \d+\]/)
    expect(screen, screen).toMatch(/\[exit 0\]$/)
    for (const n of names) expect(count(screen, new RegExp(`^done\\s+${n}\\.video\\.ts`)), screen).toBe(1)
    expect(count(screen, LIVE_ROW), screen).toBe(0)
    const all = lines(screen)
    expect(all.at(-2), screen).toMatch(/^vidspec: 6 generated, 0 cached, 0 failed, 0 invalid in /)
    expect(count(screen, /^vidspec: \d+ generated/)).toBe(1)
    expect(fake.creates).toBe(6)

    const again = await terminal(p, ['build'])
    const cached = await again.waitFor(/\[exit \d+\]/)
    for (const n of names) expect(count(cached, new RegExp(`^cached\\s+${n}\\.video\\.ts`)), cached).toBe(1)
    expect(lines(cached).at(-2)).toMatch(/^vidspec: 0 generated, 6 cached/)
  })

  it('watch: each finished job settles into its line; stopping leaves the screen as it was', async () => {
    const p = await tempProject({
      'vidspec.config.ts': `export default ${JSON.stringify(FAST)}\n`,
      'a.video.ts': togetherSpec('a'),
    })
    projects.push(p)
    const t = await terminal(p, ['watch', '--debounce', '20'])
    await t.waitFor(/^watching /m)
    await t.waitFor(/^done\s+a\.video\.ts/m)
    await p.write('b.video.ts', togetherSpec('b'))
    await t.waitFor(/^done\s+b\.video\.ts/m)
    await p.write('b.video.ts', togetherSpec('b, edited'))
    const settled = await t.waitFor(/^done\s+b\.video\.ts[^\n]*\n[\s\S]*^done\s+b\.video\.ts/m)
    expect(count(settled, LIVE_ROW), settled).toBe(0)
    await t.keys('C-c')
    const screen = await t.waitFor(/vidspec watch: stopped/)
    await until('watch to end', () => t.ended())
    expect(screen).toMatch(/vidspec watch: stopped; paid jobs in flight stay in the journal$/)
    expect(count(screen, /^done\s+a\.video\.ts/), screen).toBe(1)
    expect(count(screen, /^done\s+b\.video\.ts/), screen).toBe(2)
    expect(count(screen, /^watching /), screen).toBe(1)
  })
})
