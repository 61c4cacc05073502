import { createHash } from 'node:crypto'
import { CELL, ROWS, fitText, textBoxes } from './offline-font.js'

export interface PictureInput {
  key: string
  width: number
  height: number
  fps: number
  seconds: number
  /** The spec's name, written at the top with "PREVIEW" so a page never passes a preview off as a clip. */
  name?: string | undefined
  /** The filter graph pad of the spec's first-frame image (an ffmpeg input): the preview starts from it. */
  image?: string | undefined
}

/**
 * Segments lit for each hex digit on a seven-segment display (a top, b upper right, c lower right,
 * d bottom, e lower left, f upper left, g middle). Drawn with `drawbox`, the label needs no font,
 * so the picture is the same on every machine whatever fonts it has.
 */
const DIGITS: Record<string, string> = {
  '0': 'abcdef', '1': 'bc', '2': 'abdeg', '3': 'abcdg', '4': 'bcfg', '5': 'acdfg', '6': 'acdefg', '7': 'abc',
  '8': 'abcdefg', '9': 'abcdfg', a: 'abcefg', b: 'cdefg', c: 'adef', d: 'bcdeg', e: 'adefg', f: 'aefg',
}

const LABEL_CHARS = 8

function hex(r: number, g: number, b: number): string {
  return [r, g, b].map((v) => Math.round(v * 255).toString(16).padStart(2, '0')).join('')
}

/** HSL (hue in degrees, s and l from 0 to 1) to `RRGGBB`. */
function hsl(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l)
  const f = (n: number) => {
    const k = (n + h / 30) % 12
    return l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))
  }
  return hex(f(0), f(8), f(4))
}

function box(x: number, y: number, w: number, h: number, color: string): string {
  return `drawbox=x=${x}:y=${y}:w=${w}:h=${h}:color=${color}:t=fill`
}

function glyph(ch: string, x: number, y: number, w: number, h: number, t: number): string[] {
  const half = Math.floor(h / 2)
  const seg: Record<string, [number, number, number, number]> = {
    a: [x, y, w, t],
    b: [x + w - t, y, t, half],
    c: [x + w - t, y + half, t, h - half],
    d: [x, y + h - t, w, t],
    e: [x, y + half, t, h - half],
    f: [x, y, t, half],
    g: [x, y + half - Math.floor(t / 2), w, t],
  }
  return [...(DIGITS[ch] ?? '')].map((s) => {
    const [sx, sy, sw, sh] = seg[s] as [number, number, number, number]
    return box(sx, sy, sw, sh, 'white')
  })
}

/** A dark plate in the middle with the key's first hex digits, or nothing when the frame is too small. */
function label(text: string, width: number, height: number): string[] {
  const n = text.length
  let gw = Math.floor((width * 0.6) / (n * 1.5 + 0.5))
  if (gw * 2 > height * 0.3) gw = Math.floor((height * 0.3) / 2)
  if (gw < 3) return []
  const gh = gw * 2
  const t = Math.max(1, Math.round(gw / 5))
  const gap = Math.ceil(gw / 2)
  const textW = n * gw + (n - 1) * gap
  const x0 = Math.floor((width - textW) / 2)
  const y0 = Math.floor((height - gh) / 2)
  return [
    box(x0 - gap, y0 - gap, textW + 2 * gap, gh + 2 * gap, 'black@0.7'),
    ...[...text].flatMap((ch, i) => glyph(ch, x0 + i * (gw + gap), y0, gw, gh, t)),
  ]
}

/**
 * A plate in the top left corner: "OFFLINE PREVIEW" and the spec's name below it, in a bitmap font
 * big enough to read (at least 1 screen pixel per font pixel, about 1/20 of the frame's height per
 * line), or nothing in a frame too small for it.
 */
function namePlate(name: string | undefined, width: number, height: number): string[] {
  const px = Math.max(1, Math.floor(Math.min(width / 40 / CELL, height / 18 / ROWS)))
  const pad = px * 2
  const lineH = (ROWS + 2) * px
  if (width < CELL * px * 8 + 2 * pad || height < 2 * lineH + 2 * pad) return []
  const max = Math.floor((width - 4 * pad) / (CELL * px))
  const lines = ['OFFLINE PREVIEW', ...(name ? [fitText(name, max)] : [])].map((l) => fitText(l, max))
  const textW = Math.max(...lines.map((l) => l.length)) * CELL * px - px
  return [
    `drawbox=x=${pad}:y=${pad}:w=${textW + 2 * pad}:h=${lines.length * lineH + pad}:color=black@0.6:t=fill`,
    ...lines.flatMap((l, i) => textBoxes(l, 2 * pad, 2 * pad + i * lineH, px, i === 0 ? 'yellow' : 'white@0.95')),
  ]
}

/**
 * The preview's filter graph (output pad `[v]`, yuv420p): a key-coloured grid, a bar sweeping across
 * over the clip's length, a progress line along the bottom and the key's first digits in the middle.
 * Every parameter comes from the key, so the same key always draws the same frames.
 */
export function pictureGraph(input: PictureInput): string {
  const { width: W, height: H, fps, seconds } = input
  const isHex = /^[0-9a-f]{8,}$/i.test(input.key)
  const seed = createHash('sha256').update(`vidspec-offline-picture:${input.key}`).digest()
  const byte = (i: number) => seed[i] ?? 0
  const hue = (byte(0) / 256) * 360
  const background = hsl(hue, 0.45, 0.28)
  const barColour = hsl((hue + 150 + (byte(1) / 256) * 60) % 360, 0.7, 0.6)
  const barW = Math.max(2, Math.round(W * (0.06 + (byte(2) / 256) * 0.12)))
  const sweep = byte(3) & 1 ? `(W-w)*t/${seconds}` : `(W-w)*(1-t/${seconds})`
  const cols = 4 + (byte(4) % 9)
  const cell = Math.max(2, Math.floor(W / cols))
  const line = Math.max(1, Math.round(Math.min(W, H) / 200))
  const progressH = Math.max(2, Math.round(H / 60))
  const text = (isHex ? input.key : seed.toString('hex')).slice(0, LABEL_CHARS).toLowerCase()
  const src = (color: string, w: number, h: number) => `color=c=0x${color}:s=${w}x${h}:r=${fps}`
  // With a first-frame image the clip starts from it (scaled to cover the frame), else a key-coloured grid.
  // The image is read once and its first frame repeated here: ffmpeg's `-loop 1` input retries a
  // file with bytes after the image forever, and the render would never end.
  const frames = Math.max(1, Math.round(seconds * fps))
  const bg = input.image
    ? `${input.image}loop=loop=${frames}:size=1:start=0,setpts=N/${fps}/TB,scale=${W}:${H}:force_original_aspect_ratio=increase,crop=${W}:${H},setsar=1,fps=${fps},format=yuv420p,trim=duration=${seconds}[bg]`
    : `${src(background, W, H)}:d=${seconds},drawgrid=w=${cell}:h=${cell}:t=${line}:color=white@0.2[bg]`
  return [
    bg,
    `${src(barColour, barW, H)}[bar]`,
    `${src('ffffff', W, progressH)}[progress]`,
    `[bg][bar]overlay=x='${sweep}':y=0:shortest=1[swept]`,
    [
      `[swept][progress]overlay=x='-w+w*t/${seconds}':y=H-h:shortest=1`,
      ...label(text, W, H),
      ...namePlate(input.name, W, H),
      'format=yuv420p[v]',
    ].join(','),
  ].join(';')
}
