// The hero ships two renditions (a WebM for browsers that take it, the fast-start MP4 for all);
// the others the default one. `&vidspec` types a directive import (@vidspec/vite/client).
import hero from './videos/hero.video?format=webm;mp4&vidspec'
import product from './videos/product.video'
import loop from './videos/loop.video'
import teaser from './videos/teaser.video'
import portrait from './videos/portrait.video'
import type { VideoAsset } from '@vidspec/core'
// Browser-safe on its own: core's main entry is for Node (the plugin, the CLI, SSR).
import { videoHtml } from '@vidspec/core/markup'

const clips: Array<[string, VideoAsset]> = [
  ['hero', hero],
  ['product', product],
  ['loop', loop],
  ['teaser', teaser],
  ['portrait', portrait],
]

const app = document.querySelector<HTMLElement>('#app')!
app.innerHTML = clips
  .map(([name, clip]) => {
    const caption = `${name}: ${clip.width}×${clip.height}, ${clip.duration.toFixed(1)} s${clip.preview ? ' (preview)' : ''}`
    return `<figure>${videoHtml(clip, { id: `video-${name}`, muted: true, controls: true, preload: 'auto' })}<figcaption>${caption}</figcaption></figure>`
  })
  .join('')
