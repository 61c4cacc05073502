import type { IncomingMessage, ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { freeBoxHeader } from './clips.js'
import type { DownloadFault } from './faults.js'

/** A result body: `head` then `zeros` zero bytes. Padding is generated as it is sent, never held. */
export interface ResultBody {
  head: Buffer
  zeros: number
}

const CHUNK = 64 * 1024
const ZEROS = Buffer.alloc(CHUNK)

export function resultBody(clip: Buffer, totalBytes?: number): ResultBody {
  if (totalBytes === undefined || totalBytes <= clip.length) return { head: clip, zeros: 0 }
  const head = Buffer.concat([clip, freeBoxHeader(clip.length, totalBytes)])
  return { head, zeros: totalBytes - head.length }
}

export function bodyLength(body: ResultBody): number {
  return body.head.length + body.zeros
}

/** The body's bytes from the start, in chunks of at most `size`, up to `limit` bytes. */
function* chunks(body: ResultBody, size = CHUNK, limit = Infinity): Generator<Buffer> {
  let left = Math.min(limit, bodyLength(body))
  for (let at = 0; at < body.head.length && left > 0; at += size) {
    const piece = body.head.subarray(at, at + Math.min(size, left))
    left -= piece.length
    yield piece
  }
  while (left > 0) {
    const n = Math.min(size, left, CHUNK)
    left -= n
    yield n === CHUNK ? ZEROS : ZEROS.subarray(0, n)
  }
}

/** Writes with backpressure; false when the client went away. */
async function write(res: ServerResponse, piece: Buffer): Promise<boolean> {
  if (res.destroyed) return false
  if (res.write(piece)) return true
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
  return !res.destroyed
}

async function writeAll(res: ServerResponse, pieces: Iterable<Buffer>, sent: { bytes: number }, delayMs = 0): Promise<boolean> {
  for (const piece of pieces) {
    if (!(await write(res, piece))) return false
    sent.bytes += piece.length
    if (delayMs > 0) await sleep(delayMs)
  }
  return true
}

/** Waits until what was written has left this process, so a following reset cannot discard it. */
function flushed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => (res.destroyed ? resolve() : res.write(Buffer.alloc(0), () => resolve())))
}

/**
 * Sends a result file, honouring a download fault. Faults that break the framing also send
 * `connection: close`, so a client never reuses a connection left in an undefined state. Returns the
 * body bytes written.
 */
export async function sendResult(
  req: IncomingMessage,
  res: ServerResponse,
  body: ResultBody,
  contentType: string,
  fault: DownloadFault | undefined,
  opts: { noLength?: boolean } = {},
): Promise<number> {
  const sent = { bytes: 0 }
  const total = bodyLength(body)
  const headers: Record<string, string | number> = { 'content-type': contentType, 'content-length': total }
  // Chunked: nothing in the transfer says where the body should end.
  if (opts.noLength) delete headers['content-length']
  const broken = fault?.kind === 'download-drop' || fault?.kind === 'download-truncated' || fault?.kind === 'download-wrong-length'
  if (broken) headers.connection = 'close'
  if (fault?.kind === 'download-wrong-length') headers['content-length'] = Math.max(0, total + fault.delta)
  res.writeHead(200, headers)
  if (req.method === 'HEAD') {
    res.end()
    return 0
  }
  switch (fault?.kind) {
    case 'download-drop':
      if (await writeAll(res, chunks(body, CHUNK, fault.afterBytes ?? Math.floor(total / 2)), sent)) await flushed(res)
      res.socket?.resetAndDestroy()
      break
    case 'download-truncated':
      if (await writeAll(res, chunks(body, CHUNK, fault.bytes ?? Math.floor(total / 2)), sent)) res.end()
      break
    case 'download-slow':
      if (await writeAll(res, chunks(body, fault.chunkBytes ?? 4096), sent, fault.delayMs ?? 50)) res.end()
      break
    default:
      if (await writeAll(res, chunks(body), sent)) res.end()
  }
  return sent.bytes
}
