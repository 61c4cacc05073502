import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { containerOverrun } from './container-length.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'container-length-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function box(type: string, payload: number): Buffer {
  const b = Buffer.alloc(8 + payload)
  b.writeUInt32BE(8 + payload, 0)
  b.write(type, 4, 'latin1')
  return b
}

function largeBox(type: string, payload: number): Buffer {
  const b = Buffer.alloc(16 + payload)
  b.writeUInt32BE(1, 0)
  b.write(type, 4, 'latin1')
  b.writeBigUInt64BE(BigInt(16 + payload), 8)
  return b
}

async function check(bytes: Buffer, ext: string): Promise<string | undefined> {
  const file = join(dir, `f-${Math.random().toString(36).slice(2)}.${ext}`)
  await writeFile(file, bytes)
  return containerOverrun(file, ext)
}

describe('containerOverrun: MP4', () => {
  const whole = Buffer.concat([box('ftyp', 16), box('moov', 100), box('mdat', 1000), largeBox('free', 500)])

  it('accepts top-level boxes that tile the file, 64-bit sizes included', async () => {
    expect(await check(whole, 'mp4')).toBeUndefined()
  })

  it('accepts a last box of size 0 ("to the end of the file")', async () => {
    const open = box('mdat', 50)
    open.writeUInt32BE(0, 0)
    expect(await check(Buffer.concat([box('ftyp', 16), open]), 'mp4')).toBeUndefined()
  })

  it('finds a cut anywhere, down to one byte of padding', async () => {
    expect(await check(whole.subarray(0, whole.length - 1), 'mp4')).toMatch(/box "free" .* needs 516 bytes but the file ends after 515/)
    expect(await check(whole.subarray(0, 60), 'mp4')).toMatch(/box "moov"/)
    expect(await check(whole.subarray(0, whole.length - 510), 'mp4')).toMatch(/header is cut off/)
  })

  it('rejects a box claiming fewer bytes than its own header', async () => {
    const bad = box('ftyp', 8)
    bad.writeUInt32BE(4, 0)
    expect(await check(bad, 'mp4')).toMatch(/impossible size 4/)
  })
})

describe('containerOverrun: WebM', () => {
  // EBML header (id 1A45DFA3, 1-byte size 0x84 = 4) then a Segment (id 18538067) with a 2-byte size.
  const header = Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x84, 1, 2, 3, 4])
  const segment = (size: number, sizeBytes: number[] = [0x40 | (size >> 8), size & 0xff]) =>
    Buffer.concat([Buffer.from([0x18, 0x53, 0x80, 0x67, ...sizeBytes]), Buffer.alloc(size)])

  it('accepts a segment that ends with the file', async () => {
    expect(await check(Buffer.concat([header, segment(300)]), 'webm')).toBeUndefined()
  })

  it('finds a segment cut short', async () => {
    const whole = Buffer.concat([header, segment(300)])
    expect(await check(whole.subarray(0, whole.length - 1), 'webm')).toMatch(/segment needs 315 bytes but the file has 314/)
  })

  it('cannot judge a segment of unknown size, and says nothing', async () => {
    const unknown = Buffer.concat([header, Buffer.from([0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(10)])
    expect(await check(unknown, 'webm')).toBeUndefined()
  })
})

it('leaves formats it does not know alone', async () => {
  expect(await check(Buffer.from('not a video'), 'avi')).toBeUndefined()
})
