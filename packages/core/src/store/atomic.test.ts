import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { hashFile } from './atomic.js'

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
