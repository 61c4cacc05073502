// Runs only on the server (at prerender time): this clip reaches the page through the load data.
import teaser from '$lib/videos/teaser.video'

export function load() {
  return { teaser }
}
