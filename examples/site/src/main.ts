import hero from './videos/hero.video'
import product from './videos/product.video'
import loop from './videos/loop.video'
import teaser from './videos/teaser.video'
import portrait from './videos/portrait.video'
import type { VideoAsset } from '@vidspec/core'

const clips: Array<[string, VideoAsset]> = [
  ['hero', hero],
  ['product', product],
  ['loop', loop],
  ['teaser', teaser],
  ['portrait', portrait],
]

const app = document.querySelector<HTMLElement>('#app')!
for (const [name, clip] of clips) {
  const figure = document.createElement('figure')
  const video = document.createElement('video')
  video.id = `video-${name}`
  video.src = clip.src
  video.muted = true
  video.controls = true
  video.preload = 'auto'
  video.width = clip.width
  video.height = clip.height
  if (clip.poster) video.poster = clip.poster
  const caption = document.createElement('figcaption')
  caption.textContent = `${name}: ${clip.width}×${clip.height}, ${clip.duration.toFixed(1)} s${clip.preview ? ' (preview)' : ''}`
  figure.append(video, caption)
  app.append(figure)
}
