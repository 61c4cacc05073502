import { describeExample } from './suite.js'

// SvelteKit 2 with adapter-static (every page prerendered): one clip imported in a component (server
// and client bundles), one only in +page.server.ts (server bundle, reaches the page through load data).
describeExample({
  name: 'sveltekit',
  base: '/app/',
  outDir: 'build',
  pages: { 'index.html': { clips: 2 } },
  clean: ['build', '.svelte-kit', '.vidspec'],
  build: ['node_modules/vite/bin/vite.js', 'build'],
  dev: (port) => ['node_modules/vite/bin/vite.js', 'dev', '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
  devProbe: '',
  sources: { 'video-hero': ['video/webm', 'video/mp4'] },
  browser: { videos: 2 },
})
