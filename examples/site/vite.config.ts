import { defineConfig } from 'vite'
import vidspec from '@vidspec/vite'

// The plugin reads vidspec.config.ts from this directory, so `vite` and the `vidspec` CLI share one store.
export default defineConfig({
  plugins: [vidspec()],
})
