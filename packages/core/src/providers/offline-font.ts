/**
 * A 5x7 bitmap font drawn with `drawbox`, for the preview's text (the spec's name, "PREVIEW"): no
 * font file, so the picture is the same on every machine whatever fonts it has. Lowercase letters
 * are drawn as capitals; a character the font lacks is drawn as `?`.
 */
const GLYPHS: Record<string, string> = {
  A: '01110 10001 10001 11111 10001 10001 10001', B: '11110 10001 10001 11110 10001 10001 11110',
  C: '01110 10001 10000 10000 10000 10001 01110', D: '11110 10001 10001 10001 10001 10001 11110',
  E: '11111 10000 10000 11110 10000 10000 11111', F: '11111 10000 10000 11110 10000 10000 10000',
  G: '01110 10001 10000 10111 10001 10001 01111', H: '10001 10001 10001 11111 10001 10001 10001',
  I: '01110 00100 00100 00100 00100 00100 01110', J: '00111 00010 00010 00010 00010 10010 01100',
  K: '10001 10010 10100 11000 10100 10010 10001', L: '10000 10000 10000 10000 10000 10000 11111',
  M: '10001 11011 10101 10101 10001 10001 10001', N: '10001 10001 11001 10101 10011 10001 10001',
  O: '01110 10001 10001 10001 10001 10001 01110', P: '11110 10001 10001 11110 10000 10000 10000',
  Q: '01110 10001 10001 10001 10101 10010 01101', R: '11110 10001 10001 11110 10100 10010 10001',
  S: '01111 10000 10000 01110 00001 00001 11110', T: '11111 00100 00100 00100 00100 00100 00100',
  U: '10001 10001 10001 10001 10001 10001 01110', V: '10001 10001 10001 10001 10001 01010 00100',
  W: '10001 10001 10001 10101 10101 10101 01010', X: '10001 10001 01010 00100 01010 10001 10001',
  Y: '10001 10001 01010 00100 00100 00100 00100', Z: '11111 00001 00010 00100 01000 10000 11111',
  '0': '01110 10001 10011 10101 11001 10001 01110', '1': '00100 01100 00100 00100 00100 00100 01110',
  '2': '01110 10001 00001 00010 00100 01000 11111', '3': '11111 00010 00100 00010 00001 10001 01110',
  '4': '00010 00110 01010 10010 11111 00010 00010', '5': '11111 10000 11110 00001 00001 10001 01110',
  '6': '00110 01000 10000 11110 10001 10001 01110', '7': '11111 00001 00010 00100 01000 01000 01000',
  '8': '01110 10001 10001 01110 10001 10001 01110', '9': '01110 10001 10001 01111 00001 00010 01100',
  '-': '00000 00000 00000 11111 00000 00000 00000', _: '00000 00000 00000 00000 00000 00000 11111',
  '.': '00000 00000 00000 00000 00000 01100 01100', '/': '00001 00001 00010 00100 01000 10000 10000',
  ':': '00000 01100 01100 00000 01100 01100 00000', '?': '01110 10001 00001 00010 00100 00000 00100',
  ' ': '00000 00000 00000 00000 00000 00000 00000',
}

/** Width of one character cell in font pixels (5 drawn, 1 of spacing). */
export const CELL = 6
export const ROWS = 7

function rowsOf(ch: string): string[] {
  return (GLYPHS[ch.toUpperCase()] ?? GLYPHS['?'] ?? '').split(' ')
}

/**
 * `drawbox` filters spelling `text` with its top left at (x, y), each font pixel `px` screen pixels;
 * each run of lit pixels in a row is one box, to keep the filter graph small.
 */
export function textBoxes(text: string, x: number, y: number, px: number, color: string): string[] {
  const out: string[] = []
  ;[...text].forEach((ch, i) => {
    rowsOf(ch).forEach((row, r) => {
      for (let c = 0; c < row.length; c++) {
        if (row[c] !== '1') continue
        let end = c
        while (row[end + 1] === '1') end++
        out.push(`drawbox=x=${x + (i * CELL + c) * px}:y=${y + r * px}:w=${(end - c + 1) * px}:h=${px}:color=${color}:t=fill`)
        c = end
      }
    })
  })
  return out
}

/** `text` cut to `max` characters, keeping its end (the most specific part of a path). */
export function fitText(text: string, max: number): string {
  if (text.length <= max) return text
  return max <= 2 ? text.slice(-max) : `..${text.slice(-(max - 2))}`
}
