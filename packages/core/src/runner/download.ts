import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { VidspecError } from '../errors.js'
import { abortError } from './retry.js'

export interface DownloadResult {
  bytes: number
  contentType: string | undefined
}

/**
 * Streams a result URL to `file` (memory stays flat whatever the clip's size) and checks the byte
 * count against Content-Length. Any failure removes the partial file and is retryable: the caller
 * decides whether the URL is still good or must be fetched afresh.
 */
export async function downloadToFile(
  url: string,
  file: string,
  opts: { signal?: AbortSignal | undefined; headers?: Record<string, string>; fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<DownloadResult> {
  const fetchImpl = opts.fetch ?? fetch
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 10 * 60_000)
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout
  let bytes = 0
  try {
    const res = await fetchImpl(url, { headers: opts.headers ?? {}, redirect: 'follow', signal })
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => {})
      throw new VidspecError('DOWNLOAD_FAILED', `downloading the result failed: HTTP ${res.status} from ${redactUrl(url)}`, {
        status: res.status,
        retryable: true,
      })
    }
    const expected = parseLength(res.headers.get('content-length'))
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length
        cb(null, chunk)
      },
    })
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), counter, createWriteStream(file), { signal })
    if (expected !== undefined && bytes !== expected) {
      throw new VidspecError(
        'DOWNLOAD_FAILED',
        `downloading the result failed: got ${bytes} bytes, Content-Length said ${expected} (${redactUrl(url)})`,
        { retryable: true },
      )
    }
    return { bytes, contentType: res.headers.get('content-type') ?? undefined }
  } catch (err) {
    await rm(file, { force: true })
    if (opts.signal?.aborted) throw abortError(opts.signal)
    if (err instanceof VidspecError) throw err
    const reason = timeout.aborted ? 'timed out' : err instanceof Error ? err.message : String(err)
    throw new VidspecError('DOWNLOAD_FAILED', `downloading the result failed after ${bytes} bytes: ${reason}`, {
      cause: err,
      retryable: true,
    })
  }
}

function parseLength(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined
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
