import { describeExample } from './suite.js'

// Astro 5 (Vite 6, what Node 20 gets), static output: the hero clip is imported in page frontmatter
// (server build, prerendered HTML), the intro clip in a client <script> that Astro bundles and inlines.
describeExample({
  name: 'astro',
  base: '/docs/',
  outDir: 'dist',
  pages: { 'index.html': { clips: 1 } },
  clean: ['dist', '.astro', '.vidspec'],
  build: ['node_modules/astro/astro.js', 'build'],
  dev: (port) => ['node_modules/astro/astro.js', 'dev', '--host', '127.0.0.1', '--port', String(port)],
  devProbe: '',
  // Astro's dev server runs Vite with base '/' and applies its own base in front of it.
  devBase: '/',
  sources: { 'video-hero': ['video/webm', 'video/mp4'] },
  browser: { videos: 2 },
})
