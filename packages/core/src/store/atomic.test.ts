import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createDurable, hashFile, readJson, removeFile } from './atomic.js'

const dirs: string[] = []
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

describe('hashFile', () => {
  // Empty, small, and across the stream's 1 MB chunks.
  it.each([0, 1, 64 * 1024, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 17])('gives the sha256 and size of %i bytes', async (size) => {
    const dir = await mkdtemp(join(tmpdir(), 'vidspec-hash-'))
    dirs.push(dir)
    const bytes = Buffer.alloc(size)
    for (let i = 0; i < size; i++) bytes[i] = (i * 131 + (i >> 9)) & 0xff
    const file = join(dir, 'clip.mp4')
    await writeFile(file, bytes)
    expect(await hashFile(file)).toEqual({ digest: createHash('sha256').update(bytes).digest('hex'), size })
  })

  it('rejects for a missing file, as the stream did', async () => {
    await expect(hashFile(join(tmpdir(), 'vidspec-no-such-file.mp4'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})

describe('removeFile', () => {
  it('removes a file, says whether it was there, and never removes a folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vidspec-remove-'))
    dirs.push(dir)
    await writeFile(join(dir, 'a.tmp'), 'a')
    await writeFile(join(dir, 'b.tmp'), 'b')
    await mkdir(join(dir, 'kept'))
    await writeFile(join(dir, 'kept/clip.mp4'), 'paid')
    expect(await removeFile(join(dir, 'a.tmp'))).toBe(true)
    expect(await removeFile(join(dir, 'a.tmp'))).toBe(false)
    expect(await removeFile(join(dir, 'b.tmp'))).toBe(true)
    expect(await removeFile(join(dir, 'b.tmp'))).toBe(false)
    await expect(removeFile(join(dir, 'kept'))).rejects.toMatchObject({ code: expect.stringMatching(/^(EISDIR|EPERM)$/) as unknown })
    expect(await readdir(dir)).toEqual(['kept'])
    expect(await readdir(join(dir, 'kept'))).toEqual(['clip.mp4'])
  })
})

describe('readJson', () => {
  it.each([{}, { usuallyMissing: true }])('tells a missing file, a folder, garbled JSON and JSON apart, asked with %o', async (opts) => {
    const dir = await mkdtemp(join(tmpdir(), 'vidspec-read-json-'))
    dirs.push(dir)
    await writeFile(join(dir, 'ok.json'), '{"a":1}')
    await writeFile(join(dir, 'bad.json'), '{"a":')
    await mkdir(join(dir, 'folder.json'))
    expect(await readJson(join(dir, 'ok.json'), opts)).toEqual({ ok: true, value: { a: 1 } })
    expect(await readJson(join(dir, 'bad.json'), opts)).toEqual({ ok: false, reason: 'unparsable' })
    expect(await readJson(join(dir, 'missing.json'), opts)).toEqual({ ok: false, reason: 'missing' })
    expect(await readJson(join(dir, 'nowhere', 'missing.json'), opts)).toEqual({ ok: false, reason: 'missing' })
    expect(await readJson(join(dir, 'folder.json'), opts)).toEqual({ ok: false, reason: 'missing' })
  })
})

describe('createDurable', () => {
  it('creates a file in place with exactly the bytes, and never touches one that exists', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vidspec-create-'))
    dirs.push(dir)
    const target = join(dir, 'intent.json')
    expect(await createDurable(target, '{"a":1}\n')).toBe(true)
    expect(await readFile(target, 'utf8')).toBe('{"a":1}\n')
    expect(await createDurable(target, '{"b":2}\n')).toBe(false)
    expect(await readFile(target, 'utf8')).toBe('{"a":1}\n')
    expect(await readdir(dir)).toEqual(['intent.json'])
    await expect(createDurable(join(dir, 'missing', 'x.json'), 'x')).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
