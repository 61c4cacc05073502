/**
 * What a file is, from its first bytes: a local media file is sent to the provider (or hashed into a
 * key) as the type it claims, so its name alone is not trusted. Only the formats the provider takes.
 */

export type SniffedKind = 'image' | 'video' | 'audio'

export interface Sniffed {
  mime: string
  kind: SniffedKind
  /** For messages, e.g. "PNG". */
  name: string
}

/** How many leading bytes `sniffMedia` looks at. */
export const SNIFF_BYTES = 16

const ascii = (head: Uint8Array, at: number, text: string): boolean => {
  if (head.length < at + text.length) return false
  for (let i = 0; i < text.length; i++) if (head[at + i] !== text.charCodeAt(i)) return false
  return true
}

const starts = (head: Uint8Array, bytes: number[]): boolean => bytes.every((b, i) => head[i] === b)

/** The media type the bytes start with, or undefined for anything else (text, HTML, unknown). */
export function sniffMedia(head: Uint8Array): Sniffed | undefined {
  if (starts(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { mime: 'image/png', kind: 'image', name: 'PNG' }
  if (starts(head, [0xff, 0xd8, 0xff])) return { mime: 'image/jpeg', kind: 'image', name: 'JPEG' }
  if (ascii(head, 0, 'GIF87a') || ascii(head, 0, 'GIF89a')) return { mime: 'image/gif', kind: 'image', name: 'GIF' }
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WEBP')) return { mime: 'image/webp', kind: 'image', name: 'WebP' }
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WAVE')) return { mime: 'audio/wav', kind: 'audio', name: 'WAV' }
  if (ascii(head, 0, 'ID3')) return { mime: 'audio/mpeg', kind: 'audio', name: 'MP3' }
  // An MPEG audio frame header without an ID3 tag: 11 sync bits, then a version and layer that are
  // not "reserved" (layer III is what MP3 files hold, but II and I decode the same way).
  if (head[0] === 0xff && head.length > 1 && ((head[1] as number) & 0xe0) === 0xe0) {
    const version = ((head[1] as number) >> 3) & 0x3
    const layer = ((head[1] as number) >> 1) & 0x3
    if (version !== 1 && layer !== 0) return { mime: 'audio/mpeg', kind: 'audio', name: 'MP3' }
  }
  if (ascii(head, 4, 'ftyp')) {
    if (ascii(head, 8, 'qt  ')) return { mime: 'video/quicktime', kind: 'video', name: 'QuickTime' }
    return { mime: 'video/mp4', kind: 'video', name: 'MP4' }
  }
  // Old QuickTime files may start with a movie or data atom instead of ftyp.
  if (['moov', 'mdat', 'wide', 'free'].some((atom) => ascii(head, 4, atom))) return { mime: 'video/quicktime', kind: 'video', name: 'QuickTime' }
  if (starts(head, [0x1a, 0x45, 0xdf, 0xa3])) return { mime: 'video/webm', kind: 'video', name: 'WebM' }
  return undefined
}

/** A few words on what unrecognized bytes look like, for error messages. */
export function describeUnknown(head: Uint8Array): string {
  if (head.length === 0) return 'it is empty'
  const printable = [...head].every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f) || b >= 0x80)
  if (printable) return 'its bytes look like text'
  return `its bytes start with ${Buffer.from(head.subarray(0, 8)).toString('hex')}, which is no known media format`
}
