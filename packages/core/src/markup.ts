// Imports nothing at run time: pages import it in the browser as `@vidspec/core/markup`.
import type { VideoAsset } from './types.js'

/** What `videoHtml` takes besides the asset: plain attributes, booleans as HTML booleans. */
export type VideoAttributes = Record<string, string | number | boolean | undefined | null>

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const escapeAttr = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)

// An attribute name the HTML tokenizer reads as one name: no space, quote, `=`, `<`, `>`, `/` or control.
const NAME_RE = /^[^\s"'<>/=]+$/
const hasControl = (name: string) => [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)

function attrs(list: Array<[string, string | number | boolean | undefined | null]>): string {
  let out = ''
  for (const [name, value] of list) {
    if (value === undefined || value === null || value === false) continue
    if (!NAME_RE.test(name) || hasControl(name)) throw new TypeError(`videoHtml: "${name}" is not an attribute name`)
    out += value === true ? ` ${name}` : ` ${name}="${escapeAttr(String(value))}"`
  }
  return out
}

/**
 * `<video>` markup for an asset, framework-free: a `<source>` per rendition, best first (the browser
 * plays the first it can), the fast-start MP4 in `src` of the last one; `width` and `height` so the
 * layout keeps the video's box before it loads; the poster; `preload="metadata"` and `playsinline`
 * unless given otherwise. The placeholder (a tiny blurred first frame) becomes the element's
 * background until the poster or the first frame covers it. Every value is escaped; an attribute set
 * to `false`, `null` or `undefined` is left out, `true` is written bare (`muted`, `autoplay`, `loop`).
 */
export function videoHtml(asset: VideoAsset, attributes: VideoAttributes = {}): string {
  const { style, ...rest } = attributes
  const background = asset.placeholder ? `background:center/cover no-repeat url("${asset.placeholder}")` : undefined
  const own: Array<[string, string | number | boolean | undefined | null]> = [
    ['width', asset.width],
    ['height', asset.height],
    ['poster', asset.poster],
    ['preload', 'metadata'],
    ['playsinline', true],
  ]
  const given = new Set(Object.keys(rest))
  const list = [...own.filter(([name]) => !given.has(name)), ...Object.entries(rest)]
  const styled = [background, typeof style === 'string' && style ? style : undefined].filter(Boolean).join(';')
  if (styled) list.push(['style', styled])
  const sources = asset.sources && asset.sources.length > 0 ? asset.sources : [{ src: asset.src, type: asset.type }]
  const inner = sources.map((s) => `<source${attrs([['src', s.src], ['type', s.type]])}>`).join('')
  return `<video${attrs(list)}>${inner}</video>`
}
