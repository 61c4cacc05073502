import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { VidspecError } from '../errors.js'
import { discard, httpRequest } from '../net/http.js'
import { removeFile } from '../store/atomic.js'
import { abortError } from './retry.js'

export interface DownloadResult {
  bytes: number
  /** sha256 (hex) of the bytes written, hashed on the way in so the commit need not read them again. */
  digest: string
  contentType: string | undefined
  /**
   * False when the server sent no Content-Length (chunked, or close-delimited): then nothing in
   * the transfer says whether it ended early, and only the clip itself (container, duration) can.
   */
  lengthKnown: boolean
}

export interface DownloadOptions {
  signal?: AbortSignal | undefined
  headers?: Record<string, string> | undefined
  /**
   * Give up when no byte arrives for this long. An idle limit rather than a total one: a large clip
   * on a slow link may take any time while it makes progress, but a stalled transfer must end.
   * @default 60000
   */
  idleTimeoutMs?: number | undefined
}

/**
 * Streams a result URL to `file` (memory stays flat whatever the clip's size) and checks the byte
 * count against Content-Length. Any failure removes the partial file and is retryable: the caller
 * decides whether the URL is still good or must be fetched afresh.
 */
export async function downloadToFile(url: string, file: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const idleMs = opts.idleTimeoutMs ?? 60_000
  const idle = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const alive = (): void => {
    clearTimeout(timer)
    timer = setTimeout(() => idle.abort(), idleMs)
  }
  const signal = opts.signal ? AbortSignal.any([opts.signal, idle.signal]) : idle.signal
  let bytes = 0
  const hash = createHash('sha256')
  alive()
  try {
    // The bytes as stored: a body some server compressed unasked would never probe as a clip.
    const res = await httpRequest(url, { headers: { 'accept-encoding': 'identity', ...opts.headers }, signal, followRedirects: true })
    alive()
    if (res.status < 200 || res.status > 299) {
      discard(res.body)
      throw new VidspecError('DOWNLOAD_FAILED', `downloading the result failed: HTTP ${res.status} from ${redactUrl(url)}`, {
        status: res.status,
        retryable: true,
      })
    }
    const expected = parseLength(res.header('content-length'))
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length
        hash.update(chunk)
        alive()
        cb(null, chunk)
      },
    })
    await pipeline(res.body, counter, createWriteStream(file), { signal })
    if (expected !== undefined && bytes !== expected) {
      throw new VidspecError(
        'DOWNLOAD_FAILED',
        `downloading the result failed: got ${bytes} bytes, Content-Length said ${expected} (${redactUrl(url)})`,
        { retryable: true },
      )
    }
    return { bytes, digest: hash.digest('hex'), contentType: res.header('content-type'), lengthKnown: expected !== undefined }
  } catch (err) {
    await removeFile(file)
    if (opts.signal?.aborted) throw abortError(opts.signal)
    if (err instanceof VidspecError) throw err
    const reason = idle.signal.aborted
      ? `no data for ${Math.round(idleMs / 1000)} s`
      : err instanceof Error
        ? err.message
        : String(err)
    throw new VidspecError('DOWNLOAD_FAILED', `downloading the result failed after ${bytes} bytes: ${reason}`, {
      cause: err,
      retryable: true,
    })
  } finally {
    clearTimeout(timer)
  }
}

function parseLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined
  return Number(value)
}

/** Result URLs are signed; their query strings are credentials of a sort and stay out of logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.origin}${u.pathname}`
  } catch {
    return '(invalid URL)'
  }
}
