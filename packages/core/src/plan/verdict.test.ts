import { mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { dirStamp } from '../spec/discovery-memo.js'
import { isPackedSettled, isSettled, packStamp, statStamp, type Stamp } from '../store/stamp.js'
import { readPlanVerdict, verdictFolder, verdictPath, witnessFile, writePlanVerdict, type Verdict } from './verdict.js'

let root: string
beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'vidspec-verdict-')))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

const verdict: Verdict = { output: [[2, 'warning: w\n'], [1, 'cached   a.video.ts\n']], exitCode: 0 }
const later = () => Date.now() + 10_000

/** A verdict over `a.video.ts`, the absent `lock.json` and the root folder. */
async function recorded(query = 'q'): Promise<void> {
  // The verdict lives under node_modules, which a plan never creates (and discovery never stamps).
  await mkdir(join(root, 'node_modules'), { recursive: true })
  // Written once: rewriting it would change what every answer recorded before rested on.
  await writeFile(join(root, 'a.video.ts'), 'a', { flag: 'wx' }).catch(() => {})
  const files = { [join(root, 'a.video.ts')]: witnessFile(join(root, 'a.video.ts'), later()) as string, [join(root, 'lock.json')]: witnessFile(join(root, 'lock.json'), later()) as string }
  writePlanVerdict(root, query, { files, dirs: { [root]: dirStamp(root)?.packed as string } }, verdict)
}

describe('plan verdict', () => {
  it('answers the same query while every file and folder is as recorded', async () => {
    await recorded()
    expect(readPlanVerdict(root, 'q')).toEqual(verdict)
    expect(readPlanVerdict(root, 'q2')).toBeUndefined()
  })

  it('a file rewritten with its size and mtime kept, an absent file created, a folder changed: no answer', async () => {
    await recorded()
    const a = join(root, 'a.video.ts')
    const { atime, mtime } = await stat(a)
    await writeFile(a, 'b')
    await utimes(a, atime, mtime)
    expect(readPlanVerdict(root, 'q')).toBeUndefined()

    await recorded()
    await writeFile(join(root, 'lock.json'), '{}')
    expect(readPlanVerdict(root, 'q')).toBeUndefined()

    await rm(join(root, 'lock.json'))
    await recorded()
    await mkdir(join(root, 'sub'))
    expect(readPlanVerdict(root, 'q')).toBeUndefined()
  })

  it('a file changed after the time given is not vouched for; a missing one is recorded as absent', async () => {
    await writeFile(join(root, 'a.video.ts'), 'a')
    expect(witnessFile(join(root, 'a.video.ts'), Date.now() - 2000)).toBeUndefined()
    expect(witnessFile(join(root, 'a.video.ts'), later())).toMatch(/^1:\d+:\d+:\d+:\d+$/)
    expect(witnessFile(join(root, 'missing'), Date.now() - 2000)).toBe('-')
    // A packed stamp (the memo's, the index's) is judged the same way as the stamp it was packed from.
    const stamp = statStamp(join(root, 'a.video.ts')) as Stamp
    const changed = Math.max(Number(stamp.mtimeNs), Number(stamp.ctimeNs)) / 1e6
    for (const settled of [changed - 1, changed, changed + 1, later()]) {
      expect(isPackedSettled(packStamp(stamp) as string, settled)).toBe(isSettled(stamp, settled))
    }
  })

  it('keeps an answer per query, the newest eight: two queries in turn both find theirs; an earlier version\'s answer goes', async () => {
    await recorded('plan')
    await recorded('plan --json')
    expect(readPlanVerdict(root, 'plan')).toEqual(verdict)
    expect(readPlanVerdict(root, 'plan --json')).toEqual(verdict)
    // Another query's file never answers this one, even under its name.
    await writeFile(verdictPath(root, 'other'), await readFile(verdictPath(root, 'plan'), 'utf8'))
    expect(readPlanVerdict(root, 'other')).toBeUndefined()
    for (const q of ['other', 'plan', 'plan --json']) await rm(verdictPath(root, q))

    const queries = Array.from({ length: 10 }, (_, i) => `q${i}`)
    let t = Date.now() / 1000 - 100
    for (const q of queries) {
      await recorded(q)
      // Distinct times of recording, oldest first, whatever the clock's resolution.
      await utimes(verdictPath(root, q), (t += 1), t)
    }
    await writeFile(join(verdictFolder(root), 'unrelated.json'), '{}')
    // The one answer an earlier version kept goes with the first answer recorded after it.
    await writeFile(join(verdictFolder(root), 'plan-verdict.json'), '{}')
    await recorded('last')
    expect(await readdir(verdictFolder(root))).not.toContain('plan-verdict.json')
    const names = (await readdir(verdictFolder(root))).filter((n) => n.startsWith('plan-verdict-'))
    expect(names).toHaveLength(8)
    const kept = ['last', ...queries.slice(-7)]
    expect(names.sort()).toEqual(kept.map((q) => verdictPath(root, q).split('/').at(-1)).sort())
    for (const q of kept) expect(readPlanVerdict(root, q), q).toEqual(verdict)
    expect(await readdir(verdictFolder(root))).toContain('unrelated.json')
  })

  it('no file, a torn one, or one of another shape: no answer', async () => {
    expect(readPlanVerdict(root, 'q')).toBeUndefined()
    await recorded()
    const text = await readFile(verdictPath(root, 'q'), 'utf8')
    for (const bad of [text.slice(0, text.length >> 1), text.replace('"exitCode":0', '"exitCode":"0"'), text.replace('[2,', '[3,'), 'null']) {
      await writeFile(verdictPath(root, 'q'), bad)
      expect(readPlanVerdict(root, 'q')).toBeUndefined()
    }
  })
})
