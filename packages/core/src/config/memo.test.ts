import { existsSync } from 'node:fs'
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from './load.js'

let root: string
const memoPath = () => join(root, 'node_modules/.cache/vidspec/config-memo.json')

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'vidspec-config-memo-')))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('config memo', () => {
  it('remembers an unchanged config and its imports, and notices an edit to either', async () => {
    await writeFile(join(root, 'shared.ts'), 'export const jobs = 3\n')
    await writeFile(join(root, 'vidspec.config.ts'), "import { jobs } from './shared'\nexport default { concurrency: jobs }\n")
    expect((await loadConfig(root)).config.concurrency).toBe(3)
    const memo = JSON.parse(await readFile(memoPath(), 'utf8')) as { value: unknown; inputs: Record<string, string> }
    expect(memo.value).toEqual({ concurrency: 3 })
    expect(Object.keys(memo.inputs).sort()).toEqual([join(root, 'shared.ts'), join(root, 'vidspec.config.ts')])

    // A hit answers from the memo: proven by a memo edited by hand being believed.
    await writeFile(memoPath(), JSON.stringify({ ...memo, value: { concurrency: 7 } }))
    const hit = await loadConfig(root)
    expect(hit.config.concurrency).toBe(7)
    expect(hit.deps.sort()).toEqual([join(root, 'shared.ts'), join(root, 'vidspec.config.ts')])

    await writeFile(join(root, 'shared.ts'), 'export const jobs = 5\n')
    expect((await loadConfig(root)).config.concurrency).toBe(5)
    await writeFile(join(root, 'vidspec.config.ts'), 'export default { concurrency: 2 }\n')
    expect((await loadConfig(root)).config.concurrency).toBe(2)
  })

  it('never remembers a config that reads the environment', async () => {
    await writeFile(join(root, 'vidspec.config.ts'), 'export default { concurrency: Number(process.env.JOBS ?? 1) }\n')
    process.env.JOBS = '4'
    try {
      expect((await loadConfig(root)).config.concurrency).toBe(4)
      process.env.JOBS = '6'
      expect((await loadConfig(root)).config.concurrency).toBe(6)
    } finally {
      delete process.env.JOBS
    }
    expect(existsSync(memoPath())).toBe(false)
  })

  it('still reports a broken config, with or without a memo', async () => {
    await writeFile(join(root, 'vidspec.config.ts'), 'export default { concurrency: 2 }\n')
    await loadConfig(root)
    await writeFile(join(root, 'vidspec.config.ts'), 'export default { concurrency: 0 }\n')
    await expect(loadConfig(root)).rejects.toThrow(/concurrency/)
    // A config that failed its check is never remembered as checked.
    await expect(loadConfig(root)).rejects.toThrow(/concurrency/)
  })
})
