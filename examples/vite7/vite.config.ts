import { defineConfig } from 'vite'
import vidspec from '@vidspec/vite'

// One `vite build --app` builds both environments: the browser bundle and a server bundle that
// renders the page's HTML, each importing the same clips. `base` is not `/` so a URL that forgets it shows.
export default defineConfig({
  base: '/sub/',
  plugins: [vidspec()],
  builder: {},
  environments: {
    client: { build: { outDir: 'dist/client' } },
    ssr: { build: { outDir: 'dist/server', rollupOptions: { input: 'src/entry-server.ts' } } },
  },
})
