import { open } from 'node:fs/promises'

export interface TopBox {
  type: string
  offset: number
  size: number
}

/**
 * The top-level boxes of an MP4 file, read header by header (never the payloads): enough to tell
 * whether `moov` (the index) comes before `mdat` (the media), which is what lets a browser start
 * playing before the whole file is there. Throws on a box that runs past the end of the file.
 */
export async function topLevelBoxes(file: string): Promise<TopBox[]> {
  const fd = await open(file, 'r')
  try {
    const { size: fileSize } = await fd.stat()
    const boxes: TopBox[] = []
    const head = Buffer.alloc(16)
    let offset = 0
    while (offset + 8 <= fileSize) {
      const { bytesRead } = await fd.read(head, 0, 16, offset)
      if (bytesRead < 8) break
      let size = head.readUInt32BE(0)
      const type = head.toString('latin1', 4, 8)
      if (size === 1) {
        if (bytesRead < 16) throw new Error(`box ${type} at ${offset} is cut short`)
        size = Number(head.readBigUInt64BE(8))
      } else if (size === 0) size = fileSize - offset
      if (size < 8 || offset + size > fileSize) throw new Error(`box "${type}" at byte ${offset} claims ${size} bytes, past the end of the file (${fileSize})`)
      boxes.push({ type, offset, size })
      offset += size
    }
    return boxes
  } finally {
    await fd.close()
  }
}

/** Whether `moov` comes before the first `mdat`; the reason when not. */
export async function fastStartProblem(file: string): Promise<string | undefined> {
  let boxes: TopBox[]
  try {
    boxes = await topLevelBoxes(file)
  } catch (err) {
    return `its MP4 boxes cannot be read: ${(err as Error).message}`
  }
  const moov = boxes.findIndex((b) => b.type === 'moov')
  const mdat = boxes.findIndex((b) => b.type === 'mdat')
  if (moov === -1) return 'it has no moov box'
  if (mdat !== -1 && mdat < moov) return `not fast start: moov (at byte ${boxes[moov]?.offset}) comes after mdat (at byte ${boxes[mdat]?.offset})`
  return undefined
}
