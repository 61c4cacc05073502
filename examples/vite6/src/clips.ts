import hero from './videos/hero.video'
import loop from './videos/loop.video'

export const clips = { hero, loop }

/** The page's markup, the same on the server and in the browser. */
export function render(): string {
  return Object.entries(clips)
    .map(([name, c]) => `<video id="video-${name}" src="${c.src}" poster="${c.poster ?? ''}" muted controls preload="auto"></video>`)
    .join('\n')
}
