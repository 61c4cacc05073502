import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { joinEditors, sharedSettleMs } from './editors.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vidspec-editors-'))
  await mkdir(join(dir, 'tmp'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The pid of a process that has exited (and been reaped): its record is a crashed editor's. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'])
  await new Promise((r) => child.once('exit', r))
  return child.pid!
}

it('every editor settles for the longest quiet time of the live editors on the store', async () => {
  expect(await sharedSettleMs(dir, 0)).toBe(0)
  const dev = await joinEditors(dir, { kind: 'vite dev', settleMs: 300 })
  const watch = await joinEditors(dir, { kind: 'watch', settleMs: 0 })
  expect(await sharedSettleMs(dir, 0)).toBe(300)
  expect(await sharedSettleMs(dir, 1000)).toBe(1000)
  await dev.leave()
  expect(await sharedSettleMs(dir, 0)).toBe(0)
  await watch.leave()
  expect(await readdir(join(dir, 'editors'))).toEqual([])
})

it("a crashed editor's record is ignored and removed; another machine's is ignored", async () => {
  const editors = join(dir, 'editors')
  await mkdir(editors)
  await writeFile(join(editors, 'crashed.json'), JSON.stringify({ pid: await deadPid(), hostname: hostname(), kind: 'vite dev', settleMs: 5000 }))
  await writeFile(join(editors, 'elsewhere.json'), JSON.stringify({ pid: process.pid, hostname: `${hostname()}-other`, kind: 'watch', settleMs: 7000 }))
  await writeFile(join(editors, 'garbled.json'), '{ not json')
  expect(await sharedSettleMs(dir, 10)).toBe(10)
  expect((await readdir(editors)).sort()).toEqual(['elsewhere.json', 'garbled.json'])
})
