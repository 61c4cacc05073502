/**
 * The dev server's URLs. Clips and posters are addressed by the digest of the clip's bytes, so
 * they never change meaning and can be cached forever; a pending clip is addressed by its cache
 * key and answers with whatever stands in for it at the moment.
 */
export const URL_SEGMENT = '@vidspec/'

export type VidspecUrl =
  | { kind: 'clip'; digest: string; ext: string }
  | { kind: 'poster'; digest: string }
  | { kind: 'pending'; key: string; ext: string }
  /** A rendition (or a poster) of a stored clip, by its rendition key: made on first request. */
  | { kind: 'rendition'; key: string; ext: string }
  /** Under the prefix, but nothing we ever hand out. */
  | { kind: 'unknown' }

const CLIP_RE = /^([0-9a-f]{64})\.(mp4|webm)$/
const POSTER_RE = /^poster\/([0-9a-f]{64})\.jpg$/
const PENDING_RE = /^pending\/([A-Za-z0-9][A-Za-z0-9_-]{0,127})\.(mp4|webm)$/
const RENDITION_RE = /^r\/([A-Za-z0-9][A-Za-z0-9_-]{0,127})\.(mp4|webm|jpg|png|webp|avif)$/

/** `base` as Vite resolves it in dev: a path that starts and ends with a slash. */
export function devBase(base: string): string {
  if (!base.startsWith('/')) return '/'
  return base.endsWith('/') ? base : `${base}/`
}

export function clipUrl(base: string, digest: string, ext: string): string {
  return `${devBase(base)}${URL_SEGMENT}${digest}.${ext}`
}

export function posterUrl(base: string, digest: string): string {
  return `${devBase(base)}${URL_SEGMENT}poster/${digest}.jpg`
}

export function renditionUrl(base: string, key: string, ext: string): string {
  return `${devBase(base)}${URL_SEGMENT}r/${key}.${ext}`
}

export function pendingUrl(base: string, key: string, ext: string): string {
  return `${devBase(base)}${URL_SEGMENT}pending/${key}.${ext}`
}

/**
 * Reads a request path (no query). Undefined when the path is not ours; both the bare `/@vidspec/`
 * and the base-prefixed form are accepted, since the middleware runs before Vite strips the base.
 */
export function parseVidspecUrl(pathname: string, base: string): VidspecUrl | undefined {
  let rest: string | undefined
  for (const prefix of [`${devBase(base)}${URL_SEGMENT}`, `/${URL_SEGMENT}`]) {
    if (pathname.startsWith(prefix)) {
      rest = pathname.slice(prefix.length)
      break
    }
  }
  if (rest === undefined) return undefined
  let m = CLIP_RE.exec(rest)
  if (m?.[1] && m[2]) return { kind: 'clip', digest: m[1], ext: m[2] }
  m = POSTER_RE.exec(rest)
  if (m?.[1]) return { kind: 'poster', digest: m[1] }
  m = PENDING_RE.exec(rest)
  if (m?.[1] && m[2]) return { kind: 'pending', key: m[1], ext: m[2] }
  m = RENDITION_RE.exec(rest)
  if (m?.[1] && m[2]) return { kind: 'rendition', key: m[1], ext: m[2] }
  return { kind: 'unknown' }
}

export const MIME: Readonly<Record<string, string>> = {
  mp4: 'video/mp4',
  webm: 'video/webm',
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
}
