import { describeExample } from './suite.js'

// Nuxt 4 with `nuxt generate` (prerendered), app.baseURL '/site/': clips imported in app.vue, which is
// rendered by the server build and hydrated by the client build.
describeExample({
  name: 'nuxt',
  base: '/site/',
  outDir: '.output/public',
  pages: { 'index.html': { clips: 2 } },
  clean: ['.output', '.nuxt', '.vidspec'],
  build: ['node_modules/nuxt/bin/nuxt.mjs', 'generate'],
  dev: (port) => ['node_modules/nuxt/bin/nuxt.mjs', 'dev', '--host', '127.0.0.1', '--port', String(port)],
  devProbe: '',
  // Nuxt's dev server runs Vite with base = baseURL + buildAssetsDir.
  devBase: '/site/_nuxt/',
})
