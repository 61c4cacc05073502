import adapter from '@sveltejs/adapter-static'
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte'

/** Every page prerendered to static files; `paths.base` is not `/` so a URL that forgets it shows. */
export default {
  preprocess: vitePreprocess(),
  kit: { adapter: adapter(), paths: { base: '/app' } },
}
