// Bundles the compiled core (dist/, from tsc) into dist/bundle/: one entry plus shared chunks for the
// parts loaded lazily. Loading ~75 small modules costs Node about twice what a few bundled files do,
// and every `vidspec` command and Vite build pays it. Types stay tsc's (dist/*.d.ts); dependencies
// stay external. The spec evaluator's worker is its own entry (`evaluate-worker.js`), found by the
// pool beside the chunk it is bundled into.
import { build } from 'esbuild'
import { readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist')
await rm(join(dist, 'bundle'), { recursive: true, force: true })
await build({
  entryPoints: [
    { in: join(dist, 'index.js'), out: 'index' },
    // Tests and benchmarks only; shares chunks with the index, so a Store made through it is the same class.
    { in: join(dist, 'internal.js'), out: 'internal' },
    { in: join(dist, 'spec', 'evaluate', 'worker.js'), out: 'evaluate-worker' },
  ],
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
// zod as one CommonJS file holding only what core uses (see src/zod-members.ts), beside the chunk
// whose `zod()` requires it. Tree-shaken: zod marks itself free of side effects. It is a copy of
// zod's code, so it carries zod's license (MIT asks that copies keep the notice).
const zodLicense = await readFile(join(dirname(createRequire(import.meta.url).resolve('zod/package.json')), 'LICENSE'), 'utf8')
await build({
  banner: { js: `/*! zod (https://zod.dev), the members @vidspec/core uses.\n${zodLicense.trim()}\n*/` },
  entryPoints: [join(dist, 'zod-members.js')],
  outfile: join(dist, 'bundle', 'zod.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
})
// The no-op plan's answer (src/plan-verdict.ts) as one file of its own, sharing no chunk with the
// entry: the CLI loads it before anything else, and a shared chunk would load most of core with it.
await build({
  entryPoints: [join(dist, 'plan-verdict.js')],
  outfile: join(dist, 'bundle', 'plan-verdict.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
})
