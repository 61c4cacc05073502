import { execFileSync } from 'node:child_process'
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { isVidspecError } from '../errors.js'
import { makeExecutable } from './binaries.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vidspec-bin-'))
})
afterEach(async () => {
  await chmod(dir, 0o755).catch(() => {})
  await rm(dir, { recursive: true, force: true })
})

it('a binary shipped without its executable bit (install script skipped) runs after makeExecutable', async () => {
  const bin = join(dir, 'tool')
  await writeFile(bin, '#!/bin/sh\necho ran\n', { mode: 0o644 })
  expect(() => execFileSync(bin)).toThrow()
  makeExecutable(bin, 'some-installer')
  expect(((await stat(bin)).mode & 0o111) !== 0).toBe(true)
  expect(execFileSync(bin).toString().trim()).toBe('ran')
})

it('a binary that cannot be made executable is a clear error naming it and the package', () => {
  const missing = join(dir, 'nothing-here')
  try {
    makeExecutable(missing, '@ffprobe-installer/ffprobe')
    expect.unreachable()
  } catch (err) {
    expect(isVidspecError(err)).toBe(true)
    expect((err as Error).message).toContain(missing)
    expect((err as Error).message).toContain('@ffprobe-installer/ffprobe')
    expect((err as Error).message).toContain('allowBuilds')
  }
})
