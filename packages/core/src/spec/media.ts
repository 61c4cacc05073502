import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { showValue } from '../errors.js'
import { relativeInside } from '../paths.js'
import type { SpecIssue } from '../errors.js'
import type { NormalizedRequest, ResolvedMedia } from '../types.js'
import { AUDIO_ALLOWED, audioProblem, audioUrlProblem, dataUriBytes } from './audio.js'
import type { MediaTools } from '../media/binaries.js'
import { SNIFF_BYTES, describeUnknown, sniffMedia } from '../media/sniff.js'
import { MEDIA_TYPES, mediaSlots, type MediaKind } from './media-slots.js'

export type { MediaKind } from './media-slots.js'

export interface MediaRef {
  /** Field path, e.g. `media.frame_images[0].input_image`. */
  path: string
  /** The string the spec wrote. */
  ref: string
  kind: MediaKind
}

const FORMATS = MEDIA_TYPES
const KIND_WORD: Record<MediaKind, string> = { image: 'an image', video: 'a video', audio: 'an audio' }
/** The docs' limit for audio inputs ("up to 15 MB"). */
export const AUDIO_MAX_BYTES = 15_000_000

/** Every media string of a request, with the field it sits in and what kind of media it must be. */
export function collectMediaRefs(request: NormalizedRequest): MediaRef[] {
  return mediaSlots(request.media).map(({ path, ref, kind }) => ({ path, ref, kind }))
}

export interface MediaResolution {
  /** Written ref -> its resolution (refs that failed to resolve are absent and have an issue). */
  media: Map<string, ResolvedMedia>
  issues: SpecIssue[]
}

/** Where local media may come from: the project root, and folders the config allows (`media.allow`). */
export interface MediaPlaces {
  root: string
  allow?: readonly string[] | undefined
  /** The project's ffprobe, to hear an audio input. */
  tools?: MediaTools | undefined
}

/**
 * Resolves every media ref of a request: remote URLs and data: URIs enter the key as written, local
 * files (relative to the spec's folder) by the sha256 of their bytes, so editing a keyframe image
 * regenerates the clip and moving it does not. A local file is followed through symlinks and must
 * lie inside `places` (when given), and its bytes must be the kind of media its field takes: a file
 * is sent in a paid request as what it is, never as what its name says. Problems come back as
 * issues, not exceptions, so the caller can report them with the spec's other mistakes.
 */
export async function resolveMedia(request: NormalizedRequest, specFile: string, places?: MediaPlaces): Promise<MediaResolution> {
  const specDir = path.dirname(path.resolve(specFile))
  // Asked only when the spec names a local file: most specs name none, and each realpath is a round trip.
  let folders: Promise<string[]> | undefined
  const allowed = places ? () => (folders ??= allowedFolders(places)) : undefined
  const media = new Map<string, ResolvedMedia>()
  // Issues in the order of the fields, whatever order the reads finish in.
  const issuesByRef: SpecIssue[][] = []
  // One read per file however often, and under however many spellings, the spec names it.
  const files = new Map<string, Promise<FileInfo | FileProblem>>()

  await Promise.all(
    collectMediaRefs(request).map(async ({ path: at, ref, kind }, index) => {
      const issue = (message: string): void => {
        issuesByRef[index] = [...(issuesByRef[index] ?? []), { path: at, value: showValue(ref), message }]
      }
      if (/^https?:\/\//i.test(ref)) {
        const urlProblem = kind === 'audio' ? audioUrlProblem(ref) : undefined
        if (urlProblem) return issue(urlProblem)
        const resolved: ResolvedMedia = { kind: 'url', ref, sha256: sha256(ref) }
        const mime = mimeOfUrl(ref, kind)
        if (mime !== undefined) resolved.mime = mime
        media.set(ref, resolved)
        return
      }
      if (/^data:/i.test(ref)) {
        const data = parseDataUri(ref)
        if (!data) return issue('a data: URI of the form data:<type>;base64,<data>')
        const problem = checkFormat(kind, { mime: data.mime, size: data.size })
        if (problem) return issue(problem)
        const heard = kind === 'audio' ? await audioProblem({ bytes: dataUriBytes(ref) }, data.size, places?.tools) : undefined
        if (heard) return issue(heard)
        media.set(ref, { kind: 'data', ref, sha256: sha256(ref), mime: data.mime, size: data.size })
        return
      }
      const file = localPath(ref, specDir)
      if (file === undefined) return issue('a local file path, an http(s) URL or a data: URI')
      const ext = path.extname(file).slice(1).toLowerCase()
      const mime = FORMATS[kind][ext]
      if (mime === undefined) return issue(`${KIND_WORD[kind]} file: ${extensionList(kind)}`)
      let pending = files.get(file)
      if (!pending) {
        pending = readFileInfo(file, allowed)
        files.set(file, pending)
      }
      const info = await pending
      if ('problem' in info) return issue(info.problem)
      if (!info.sniffed) return issue(`${allowedWords(kind)}; ${file} is not one: ${describeUnknown(info.head)}`)
      if (info.sniffed.kind !== kind) return issue(`${allowedWords(kind)}; ${file} is ${KIND_WORD[info.sniffed.kind]} file (${info.sniffed.name})`)
      const problem = checkFormat(kind, { mime: info.sniffed.mime, size: info.size })
      if (problem) return issue(problem)
      const heard = kind === 'audio' ? await audioProblem({ file }, info.size, places?.tools) : undefined
      if (heard) return issue(heard)
      media.set(ref, { kind: 'file', ref, path: file, sha256: info.sha256, mime: info.sniffed.mime, size: info.size })
    }),
  )
  return { media, issues: issuesByRef.flat() }
}

interface FileInfo {
  sha256: string
  size: number
  /** The first bytes, and the media type they show (undefined: none we know). */
  head: Uint8Array
  sniffed: ReturnType<typeof sniffMedia>
}
interface FileProblem {
  problem: string
}

/** The real paths of the folders local media may come from (a folder that does not exist is skipped). */
async function allowedFolders(places: MediaPlaces): Promise<string[]> {
  const folders = [places.root, ...(places.allow ?? [])].map((f) => path.resolve(places.root, f))
  const real = await Promise.all(folders.map((f) => realpath(f).catch(() => undefined)))
  return real.filter((f): f is string => f !== undefined)
}

function isInside(file: string, folder: string): boolean {
  return relativeInside(folder, file) !== undefined
}

async function readFileInfo(file: string, allowed: (() => Promise<string[]>) | undefined): Promise<FileInfo | FileProblem> {
  try {
    // The place is judged by where the bytes really are: a symlink inside the project that points
    // at ~/.ssh/id_rsa is a file outside it.
    const real = await realpath(file)
    if (allowed) {
      const folders = await allowed()
      if (!folders.some((folder) => isInside(real, folder))) {
        const where = real === file ? `${file} is outside it` : `${file} links to ${real}, outside it`
        return { problem: `a file inside the project (${folders[0] ?? 'its root'}) or a folder listed in media.allow; ${where}` }
      }
    }
    const stats = await stat(real)
    if (!stats.isFile()) return { problem: `a file; ${file} is not one` }
    const hash = createHash('sha256')
    let size = 0
    let head = new Uint8Array(0)
    for await (const chunk of createReadStream(real)) {
      const bytes = chunk as Buffer
      if (head.length < SNIFF_BYTES) head = Buffer.concat([head, bytes.subarray(0, SNIFF_BYTES - head.length)])
      hash.update(bytes)
      size += bytes.length
    }
    return { sha256: hash.digest('hex'), size, head, sniffed: sniffMedia(head) }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return { problem: `an existing file; ${file} does not exist (paths are relative to the spec file)` }
    return { problem: `a readable file; ${file} cannot be read (${code ?? String(err)})` }
  }
}

/** The absolute path a ref names, or undefined when it is a URL of a scheme we cannot read. */
function localPath(ref: string, specDir: string): string | undefined {
  if (/^file:/i.test(ref)) {
    try {
      return fileURLToPath(ref)
    } catch {
      return undefined
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(ref)) return undefined
  return path.resolve(specDir, ref)
}

function checkFormat(kind: MediaKind, file: { mime: string; size: number }): string | undefined {
  if (!Object.values(FORMATS[kind]).includes(file.mime)) return `${KIND_WORD[kind]} file: ${extensionList(kind)}`
  if (kind === 'audio' && file.size > AUDIO_MAX_BYTES) {
    return `an audio file of at most 15 MB (this one is ${(file.size / 1_000_000).toFixed(1)} MB)`
  }
  return undefined
}

const KIND_NAMES: Record<Exclude<MediaKind, 'audio'>, string> = { image: 'PNG, JPEG, WebP or GIF', video: 'MP4, WebM or QuickTime' }
/** What a field of this kind takes, for messages (audio has its own rules, from audio.ts). */
function allowedWords(kind: MediaKind): string {
  return kind === 'audio' ? AUDIO_ALLOWED : `${KIND_WORD[kind]} file (${KIND_NAMES[kind]})`
}

function extensionList(kind: MediaKind): string {
  const exts = Object.keys(FORMATS[kind]).map((e) => `.${e}`)
  return `${exts.slice(0, -1).join(', ')} or ${exts.at(-1)}`
}

function parseDataUri(ref: string): { mime: string; size: number } | undefined {
  const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/is.exec(ref)
  if (!match) return undefined
  const mime = (match[1] || 'text/plain').toLowerCase()
  const payload = match[3] ?? ''
  const base64 = /;base64$/i.test(match[2] ?? '')
  const size = base64 ? Buffer.byteLength(payload, 'base64') : Buffer.byteLength(decodeURIComponentSafe(payload))
  return { mime, size }
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** A URL's MIME type guessed from its extension; providers may use it, nothing is checked against it. */
function mimeOfUrl(ref: string, kind: MediaKind): string | undefined {
  try {
    const ext = path.posix.extname(new URL(ref).pathname).slice(1).toLowerCase()
    return FORMATS[kind][ext]
  } catch {
    return undefined
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
