import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Vidspec } from '@vidspec/core'
import { Store } from '@vidspec/core/internal'

export interface BenchProject {
  root: string
  /** The one folder every spec is in. */
  specDir: string
  specFiles: string[]
  shared: string
  dispose(): Promise<void>
}

/**
 * `count` specs in one folder (`src/clips/`), each importing one shared module (`src/brand.ts`): the
 * project issue 17 measures. Every spec differs (its prompt and seed), so every spec has its own key.
 * With `sound`, every spec asks an audio-generating model for sound (its clip then has a sound track).
 */
export async function generateProject(
  count: number,
  config = `export default { provider: 'offline', include: ['src/**/*.video.ts'] }\n`,
  opts: { sound?: boolean } = {},
): Promise<BenchProject> {
  const root = await mkdtemp(join(tmpdir(), `vidspec-bench-${count}-`))
  const shared = join(root, 'src/brand.ts')
  const specDir = join(root, 'src/clips')
  await mkdir(specDir, { recursive: true })
  await writeFile(shared, `export const brand = { look: 'soft teal light, film grain', steps: 20, fps: 8 }\n`)
  await writeFile(join(root, 'vidspec.config.ts'), config)
  const specFiles: string[] = []
  for (let i = 0; i < count; i++) {
    const file = join(specDir, `clip-${i}.video.ts`)
    specFiles.push(file)
    await writeFile(file, opts.sound ? specSource(i, '../brand', '\n  generate_audio: true,', 'google/veo-3.0-audio') : specSource(i, '../brand'))
  }
  return { root, specDir, specFiles, shared, dispose: () => rm(root, { recursive: true, force: true }) }
}

export function specSource(i: number, brandImport: string, extra = '', model = 'minimax/hailuo-02'): string {
  return `import { defineVideo } from '@vidspec/core'
import { brand } from '${brandImport}'

export default defineVideo({
  model: '${model}',
  prompt: \`Shot ${i}: a slow pan across a quiet harbour, \${brand.look}\`,
  seconds: 1,
  width: 1366,
  height: 768,
  fps: brand.fps,
  steps: brand.steps,
  seed: ${i},${extra}
})
`
}

/** One tiny rendered clip, recorded under every spec's key: a store full of hits, made in seconds. */
export async function fillStore(root: string): Promise<void> {
  const project = await Vidspec.open({ root })
  const loaded = await project.loadAll()
  const broken = loaded.filter((l) => !l.spec)
  if (broken.length > 0) throw new Error(`${broken.length} spec(s) did not load: ${broken[0]?.error?.message ?? ''}`)
  const specs = loaded.flatMap((l) => (l.spec ? [l.spec] : []))
  const first = specs[0]
  if (!first) throw new Error('no spec loaded')
  const { entry } = await project.generate(first)
  const store = new Store(project.config.cacheDir)
  for (const spec of specs.slice(1)) {
    await store.putEntry({ ...entry, key: spec.key, request: spec.request, spec: spec.id })
  }
}

/** The answers plans kept (`node_modules/.cache/vidspec/plan-verdict-*.json`, one per query; `plan-verdict.json` before). */
export async function planAnswers(root: string): Promise<string[]> {
  const dir = join(root, 'node_modules/.cache/vidspec')
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('plan-verdict')).map((n) => join(dir, n))
}

/** Removes them: the next plan runs in full, its memos doing the work. */
export async function dropPlanAnswers(root: string): Promise<void> {
  for (const file of await planAnswers(root)) await rm(file, { force: true })
}
