import { createReadStream } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pipeline } from 'node:stream/promises'
import { parseRange } from './range.js'

export interface ServedFile {
  path: string
  size: number
  /** MIME type for Content-Type. */
  type: string
  /** Strong validator, quoted (`"<digest>"`). */
  etag: string
  cacheControl: string
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false
  if (header.trim() === '*') return true
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)
}

/**
 * Sends a file with the headers a `<video>` needs to seek: byte ranges (206/416), HEAD, and
 * conditional requests. The body is streamed from disk, never buffered.
 */
export async function sendFile(req: IncomingMessage, res: ServerResponse, file: ServedFile): Promise<void> {
  res.setHeader('Content-Type', file.type)
  res.setHeader('Accept-Ranges', 'bytes')
  res.setHeader('ETag', file.etag)
  res.setHeader('Cache-Control', file.cacheControl)

  if (etagMatches(req.headers['if-none-match'], file.etag)) {
    res.statusCode = 304
    res.end()
    return
  }

  // A Range that names another version of the file is ignored: the client gets the whole new one.
  const ifRange = req.headers['if-range']
  const rangeHeader = ifRange === undefined || ifRange === file.etag ? req.headers.range : undefined
  const range = parseRange(rangeHeader, file.size)

  if (range.kind === 'unsatisfiable') {
    res.statusCode = 416
    res.setHeader('Content-Range', `bytes */${file.size}`)
    res.setHeader('Content-Length', '0')
    res.end()
    return
  }

  const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, file.size - 1]
  if (range.kind === 'partial') {
    res.statusCode = 206
    res.setHeader('Content-Range', `bytes ${start}-${end}/${file.size}`)
  } else {
    res.statusCode = 200
  }
  res.setHeader('Content-Length', String(Math.max(0, end - start + 1)))
  if (req.method === 'HEAD' || file.size === 0) {
    res.end()
    return
  }
  try {
    await pipeline(createReadStream(file.path, { start, end }), res)
  } catch {
    // The client went away mid-body (seeking does that all the time), or the file vanished after
    // the headers were sent: nothing useful can be said on this response any more.
    res.destroy()
  }
}
