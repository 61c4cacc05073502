import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Vidspec } from '../project.js'
import { PNG_SIGNATURE as PNG, settle, writeTwoSpecs } from './test-helpers.js'

let root: string

// Each evaluation of a spec appends a line to a log: the memo's whole point is that a hit does not.
const spec = (prompt: string, extra = '') => `import { appendFileSync } from 'node:fs'
import { defineVideo } from '@vidspec/core'
import { look } from './shared'
appendFileSync(${JSON.stringify(join(root, 'evals.log'))}, 'x\\n')
export default defineVideo({ model: 'minimax/hailuo-02', prompt: \`${prompt} \${look}\`, seconds: 1, width: 160, height: 90${extra} })
`

async function evaluations(): Promise<number> {
  const text = await readFile(join(root, 'evals.log'), 'utf8').catch(() => '')
  return text.split('\n').filter(Boolean).length
}

async function keys(provider: 'offline' | 'together' = 'offline'): Promise<Record<string, string>> {
  const env = provider === 'together' ? { TOGETHER_API_KEY: 'k' } : {}
  const vs = await Vidspec.open({ root, env, overrides: { provider } })
  const loaded = await vs.loadAll()
  return Object.fromEntries(loaded.map((l) => [l.file.slice(root.length + 1), l.spec?.key ?? `error: ${l.error?.message}`]))
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vidspec-memo-'))
  await writeTwoSpecs(root, spec)
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('the spec memo', () => {
  it('evaluates each spec once, then serves unchanged specs from the memo with the same keys', async () => {
    const first = await keys()
    expect(await evaluations()).toBe(2)
    expect(await keys()).toEqual(first)
    expect(await evaluations()).toBe(2)
  })

  it('vouches for settled files by their stamp, and still sees an in-place edit that kept the size and the mtime', async () => {
    // Files changed in the last 2 s are always hashed (a second write in the same clock tick could
    // leave the stamp as it was); wait until these have settled.
    await settle()
    const first = await keys()
    expect(await keys()).toEqual(first)
    const memoFile = join(root, '.vidspec/memo/specs-offline.json')
    const stamps = (JSON.parse(await readFile(memoFile, 'utf8')) as { stamps?: Record<string, unknown> }).stamps ?? {}
    expect(Object.keys(stamps).sort()).toEqual(['a.video.ts', 'b.video.ts', 'frame.png', 'shared.ts'].map((f) => join(root, f)))
    expect(await evaluations()).toBe(2)
    // Same length, the old mtime put back: only ctime tells.
    const path = join(root, 'a.video.ts')
    const { mtime } = await stat(path)
    await writeFile(path, spec('ALPHA'))
    await utimes(path, mtime, mtime)
    const second = await keys()
    expect(await evaluations()).toBe(3)
    expect(second['a.video.ts']).not.toBe(first['a.video.ts'])
    expect(second['b.video.ts']).toBe(first['b.video.ts'])
  })

  it('vouches for the settled modules an evaluation read by their stamps at once: the load after a cold one reads none of them', async () => {
    await settle()
    const memoFile = join(root, '.vidspec/memo/specs-offline.json')
    const memo = async () => JSON.parse(await readFile(memoFile, 'utf8')) as { stamps?: Record<string, [string, string]> }
    const first = await keys()
    const learned = (await memo()).stamps ?? {}
    // The spec files and the module they import, as their bundle read them; the image (hashed by
    // the media resolver, not the bundle) is learned by the next load.
    expect(Object.keys(learned).sort()).toEqual(['a.video.ts', 'b.video.ts', 'shared.ts'].map((f) => join(root, f)))
    for (const [file, [stamp]] of Object.entries(learned)) {
      const st = await stat(file, { bigint: true })
      expect(stamp).toBe(`${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}:${st.dev}`)
    }
    expect(await keys()).toEqual(first)
    expect(Object.keys((await memo()).stamps ?? {})).toHaveLength(4)
    expect(await evaluations()).toBe(2)
  })

  it('keeps the stamps a load of some files learned, as a Vite build loads its specs', async () => {
    // Loaded at once, while the files are too fresh to be vouched for by their stamps.
    await keys()
    const memoFile = join(root, '.vidspec/memo/specs-offline.json')
    const stamps = async () => Object.keys((JSON.parse(await readFile(memoFile, 'utf8')) as { stamps?: Record<string, unknown> }).stamps ?? {}).sort()
    expect(await stamps()).toEqual([])
    await settle()
    const vs = await Vidspec.open({ root })
    await Promise.all(['a.video.ts', 'b.video.ts'].map((f) => vs.loadMemoized(join(root, f))))
    expect(await evaluations()).toBe(2)
    expect(await stamps()).toEqual(['a.video.ts', 'b.video.ts', 'frame.png', 'shared.ts'].map((f) => join(root, f)))
  })

  it('re-evaluates exactly the edited spec', async () => {
    const first = await keys()
    await writeFile(join(root, 'a.video.ts'), spec('alpha two'))
    const second = await keys()
    expect(await evaluations()).toBe(3)
    expect(second['a.video.ts']).not.toBe(first['a.video.ts'])
    expect(second['b.video.ts']).toBe(first['b.video.ts'])
  })

  it('re-evaluates every spec importing an edited module', async () => {
    const first = await keys()
    await writeFile(join(root, 'shared.ts'), `export const look = 'amber'\n`)
    const second = await keys()
    expect(await evaluations()).toBe(4)
    expect(second['a.video.ts']).not.toBe(first['a.video.ts'])
    expect(second['b.video.ts']).not.toBe(first['b.video.ts'])
  })

  it('misses when one byte of a referenced image changes', async () => {
    const first = await keys()
    await writeFile(join(root, 'frame.png'), Buffer.concat([PNG, Buffer.from('frame bytez')]))
    const second = await keys()
    expect(second['b.video.ts']).not.toBe(first['b.video.ts'])
    expect(second['a.video.ts']).toBe(first['a.video.ts'])
    expect(await evaluations()).toBe(3)
  })

  it('keeps providers apart', async () => {
    const offline = await keys('offline')
    const together = await keys('together')
    expect(together['a.video.ts']).not.toBe(offline['a.video.ts'])
    expect(await evaluations()).toBe(4)
    expect(await keys('offline')).toEqual(offline)
    expect(await evaluations()).toBe(4)
  })

  it('reports a referenced file that disappeared instead of serving the old key', async () => {
    await keys()
    await rm(join(root, 'frame.png'))
    const after = await keys()
    expect(after['b.video.ts']).toMatch(/^error: [\s\S]*frame\.png/)
  })

  it('never remembers a spec that reads the environment or the clock', async () => {
    await writeFile(join(root, 'c.video.ts'), spec('gamma').replace("prompt: `gamma", "prompt: `gamma ${process.env.MEMO_LOOK ?? ''}"))
    process.env.MEMO_LOOK = 'one'
    try {
      const first = await keys()
      expect(await evaluations()).toBe(3)
      process.env.MEMO_LOOK = 'two'
      const second = await keys()
      // a and b from the memo; c evaluated again, and its key follows the environment.
      expect(await evaluations()).toBe(4)
      expect(second['c.video.ts']).not.toBe(first['c.video.ts'])
      expect(second['a.video.ts']).toBe(first['a.video.ts'])
    } finally {
      delete process.env.MEMO_LOOK
    }
  })
})
