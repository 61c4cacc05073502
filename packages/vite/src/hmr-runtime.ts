/** The id pages never write: the generated dev modules import it. */
export const HMR_RUNTIME_ID = 'virtual:vidspec/hmr'
export const RESOLVED_HMR_RUNTIME_ID = '\0vidspec:hmr'

/**
 * Browser side of a spec module in dev. A page imported the asset object once and keeps it, so an
 * update rewrites that same object in place (the new module instance returns it), points every
 * `<video>`/`<source>` still showing the old clip at the new one, and tells the page through a
 * `vidspec:update` window event, all without reloading. Dev URLs carry the spec's id in their
 * fragment (`#vidspec=<id>`), so elements of another spec with the same clip are left alone.
 *
 * Kept as source text: it is served to the browser as is, and it must stay plain ES2020.
 */
export const HMR_RUNTIME_SOURCE = `
const abs = (url) => (url ? new URL(url, location.href).href : '')

// Each old URL (the clip and every rendition, by position) -> what replaces it.
function replacements(before, after) {
  const map = new Map()
  const olds = before.sources || []
  const news = after.sources || []
  olds.forEach((s, i) => {
    const next = news[i] || news[news.length - 1] || after
    map.set(abs(s.src), { src: next.src, type: next.type })
  })
  map.set(abs(before.src), { src: after.src, type: after.type })
  return map
}

function swap(before, after) {
  if (typeof document === 'undefined') return
  const urls = replacements(before, after)
  const oldPoster = abs(before.poster)
  for (const video of document.querySelectorAll('video')) {
    let changed = false
    const now = video.getAttribute('src') && urls.get(abs(video.getAttribute('src')))
    if (now) {
      video.setAttribute('src', now.src)
      changed = true
    }
    for (const source of video.querySelectorAll('source')) {
      const next = source.getAttribute('src') && urls.get(abs(source.getAttribute('src')))
      if (next) {
        source.setAttribute('src', next.src)
        if (next.type) source.setAttribute('type', next.type)
        changed = true
      }
    }
    if (oldPoster && video.getAttribute('poster') && abs(video.getAttribute('poster')) === oldPoster) {
      if (after.poster) video.setAttribute('poster', after.poster)
      else video.removeAttribute('poster')
    }
    if (changed) {
      const playing = !video.paused
      video.load()
      if (playing) video.play().catch(() => {})
    }
  }
}

export function track(hot, fresh) {
  if (!hot) return fresh
  const current = hot.data.asset
  if (!current) {
    hot.data.asset = fresh
    return fresh
  }
  const before = { ...current }
  for (const k of Object.keys(current)) delete current[k]
  Object.assign(current, fresh)
  if (before.src !== current.src || before.poster !== current.poster || JSON.stringify(before.sources) !== JSON.stringify(current.sources)) swap(before, current)
  if (typeof window !== 'undefined' && typeof CustomEvent === 'function') {
    window.dispatchEvent(new CustomEvent('vidspec:update', { detail: { asset: current, previous: before } }))
  }
  return current
}
`
