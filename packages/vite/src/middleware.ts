import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Entry } from '@vidspec/core'
import { sendFile } from './serve.js'
import { MIME, parseVidspecUrl } from './urls.js'

const IMMUTABLE = 'public, max-age=31536000, immutable'
// What stands in for a pending clip changes when the clip lands: always revalidate.
const REVALIDATE = 'no-cache'

export interface MiddlewareSource {
  /** Dev `base` (the middleware runs before Vite strips it). */
  base(): string
  /** Absolute path of a store object, or undefined when there is none with that digest and type. */
  objectPath(digest: string, ext: string): Promise<string | undefined>
  /** Poster of a stored clip, extracted on first use. */
  poster(digest: string): Promise<string | undefined>
  /** What to show for a pending key: the clip when it landed, else its preview; undefined if unknown. */
  pending(key: string): Promise<Entry | undefined>
  /**
   * A rendition by its key: the made object (`final`), or, while a video rendition is being made,
   * the master clip in its place (not final: revalidated); undefined for a key this server never gave out.
   */
  rendition(key: string): Promise<{ path: string; type: string; digest: string; final: boolean } | undefined>
  onError(message: string): void
}

type Next = (err?: unknown) => void

/** The file and its size, or undefined when there is no such file (any more). */
async function fileAt(path: string | undefined): Promise<{ path: string; size: number } | undefined> {
  if (!path) return undefined
  try {
    const s = await stat(path)
    return s.isFile() ? { path, size: s.size } : undefined
  } catch {
    return undefined
  }
}

function notFound(res: ServerResponse, what: string): void {
  res.statusCode = 404
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.setHeader('Cache-Control', 'no-store')
  res.end(`vidspec: ${what}\n`)
}

/**
 * Serves clips and posters under `<base>@vidspec/`: content-addressed files with immutable caching,
 * pending clips by key, byte ranges everywhere. Anything else under the prefix is a 404, never an
 * error page from a thrown exception.
 */
export function createVidspecMiddleware(source: MiddlewareSource) {
  return function vidspecServeMiddleware(req: IncomingMessage, res: ServerResponse, next: Next): void {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/'
    const url = parseVidspecUrl(pathname, source.base())
    if (!url) {
      next()
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.statusCode = 405
      res.setHeader('Allow', 'GET, HEAD')
      res.end()
      return
    }
    handle(req, res, url).catch((err: unknown) => {
      source.onError(`serving ${pathname}: ${err instanceof Error ? err.message : String(err)}`)
      if (!res.headersSent) {
        res.statusCode = 500
        res.setHeader('Content-Type', 'text/plain; charset=utf-8')
        res.end('vidspec: could not serve this file; see the dev server log\n')
      } else {
        res.destroy()
      }
    })
  }

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: NonNullable<ReturnType<typeof parseVidspecUrl>>,
  ): Promise<void> {
    switch (url.kind) {
      case 'clip': {
        const file = await fileAt(await source.objectPath(url.digest, url.ext))
        if (!file) return notFound(res, `no clip ${url.digest}.${url.ext} in the store`)
        const type = MIME[url.ext] ?? 'application/octet-stream'
        return sendFile(req, res, { ...file, type, etag: `"${url.digest}"`, cacheControl: IMMUTABLE })
      }
      case 'poster': {
        const file = await fileAt(await source.poster(url.digest))
        if (!file) return notFound(res, `no clip ${url.digest} in the store to take a poster from`)
        return sendFile(req, res, { ...file, type: 'image/jpeg', etag: `"${url.digest}-poster"`, cacheControl: IMMUTABLE })
      }
      case 'pending': {
        const entry = await source.pending(url.key)
        const file = entry && (await fileAt(await source.objectPath(entry.digest, entry.ext)))
        if (!entry || !file) return notFound(res, `no pending clip ${url.key}`)
        return sendFile(req, res, { ...file, type: entry.mime, etag: `"${entry.digest}"`, cacheControl: REVALIDATE })
      }
      case 'rendition': {
        const r = await source.rendition(url.key)
        const file = r && (await fileAt(r.path))
        if (!r || !file) return notFound(res, `no rendition ${url.key}`)
        return sendFile(req, res, { ...file, type: r.type, etag: `"${r.digest}"`, cacheControl: r.final ? IMMUTABLE : REVALIDATE })
      }
      case 'unknown':
        return notFound(res, 'not a clip this server knows')
    }
  }
}
