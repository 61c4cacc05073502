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

function full(type: string, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(12)
  head.writeUInt32BE(12 + payload.length, 0)
  head.write(type, 4, 'latin1')
  head.writeUInt32BE(flags, 8)
  return Buffer.concat([head, payload])
}

function container(type: string, ...kids: Buffer[]): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(8 + kids.reduce((n, k) => n + k.length, 0), 0)
  head.write(type, 4, 'latin1')
  return Buffer.concat([head, ...kids])
}

/** moof with one traf: tfhd (offsets relative to the moof) and a trun with per-sample sizes. */
function moof(sampleSizes: number[]): Buffer {
  const tfhd = full('tfhd', 0x20000, Buffer.from([0, 0, 0, 1]))
  const build = (offset: number): Buffer => {
    const body = Buffer.alloc(8 + 4 * sampleSizes.length)
    body.writeUInt32BE(sampleSizes.length, 0)
    body.writeInt32BE(offset, 4)
    sampleSizes.forEach((s, i) => body.writeUInt32BE(s, 8 + 4 * i))
    return container('moof', container('traf', tfhd, full('trun', 0x000201, body)))
  }
  const size = build(0).length
  return build(size + 8) // the samples start right after the mdat header
}

describe('containerOverrun: fragmented MP4', () => {
  const head = Buffer.concat([box('ftyp', 16), box('moov', 100)])

  it('accepts fragments whose mdat holds every sample its moof points at', async () => {
    const file = Buffer.concat([head, moof([100, 50]), box('mdat', 150), moof([10]), box('mdat', 10)])
    expect(await check(file, 'mp4')).toBeUndefined()
  })

  it('catches a last fragment whose mdat holds fewer bytes than its samples need', async () => {
    const file = Buffer.concat([head, moof([100, 50]), box('mdat', 150), moof([100, 100]), box('mdat', 120)])
    expect(await check(file, 'mp4')).toMatch(/fragment at byte \d+ points at \d+ bytes but its data ends after/)
  })

  it('catches a file that ends with a moof and no sample data', async () => {
    const file = Buffer.concat([head, moof([100]), box('mdat', 100), moof([100])])
    expect(await check(file, 'mp4')).toMatch(/last MP4 fragment .* ends before its sample data/)
  })
})
