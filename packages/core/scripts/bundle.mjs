// Bundles the compiled core (dist/, from tsc) into dist/bundle/: one entry plus shared chunks for the
// parts loaded lazily. Loading ~75 small modules costs Node about twice what a few bundled files do,
// and every `vidspec` command and Vite build pays it. Types stay tsc's (dist/*.d.ts); dependencies
// stay external.
import { build } from 'esbuild'
import { rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist')
await rm(join(dist, 'bundle'), { recursive: true, force: true })
await build({
  entryPoints: [join(dist, 'index.js')],
  outdir: join(dist, 'bundle'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: '[name]-[hash]',
  sourcemap: true,
  logLevel: 'warning',
})
