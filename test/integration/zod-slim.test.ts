import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { repoRoot, runCli, tempProject, type TempProject } from '../helpers/project.js'

// The bundled core checks configs and specs with dist/bundle/zod.cjs, the members of zod it uses
// in one file (src/zod-members.ts), not the whole package with its 64 locales. These check that
// the built file answers as zod does and that it is the only zod a checking run loads.

const slimPath = join(repoRoot, 'packages/core/dist/bundle/zod.cjs')
const requireFromCore = createRequire(join(repoRoot, 'packages/core/package.json'))
// Only the members core uses: the type of the file the bundle is made from.
type Zod = typeof import('../../packages/core/src/zod-members.js')
const slim = requireFromCore(slimPath) as Zod
const full = requireFromCore('zod') as Zod

const projects: TempProject[] = []
afterAll(async () => {
  await Promise.all(projects.map((p) => p.dispose()))
})

/** Each schema core builds from some member, with inputs that pass and fail it. */
const cases: Array<{ name: string; schema: (z: Zod) => InstanceType<Zod['ZodType']>; inputs: unknown[] }> = [
  { name: 'string', schema: (z) => z.string().min(1), inputs: ['a', '', 3, null, undefined] },
  { name: 'int', schema: (z) => z.int().min(1).max(5), inputs: [1, 0, 6, 2.5, '3', Number.NaN] },
  { name: 'number', schema: (z) => z.number().int().nonnegative(), inputs: [0, -1, 1.5, Infinity, '1'] },
  { name: 'boolean', schema: (z) => z.boolean(), inputs: [true, 0, 'false'] },
  { name: 'enum', schema: (z) => z.enum(['first', 'last']), inputs: ['first', 'middle', 1] },
  { name: 'union', schema: (z) => z.union([z.enum(['first', 'last']), z.number().nonnegative()]), inputs: ['last', -2, {}] },
  { name: 'array', schema: (z) => z.array(z.string()).max(2), inputs: [['a'], ['a', 'b', 'c'], [1], 'a'] },
  { name: 'record', schema: (z) => z.record(z.string(), z.number()), inputs: [{ a: 1 }, { a: 'x' }, []] },
  { name: 'unknown', schema: (z) => z.unknown(), inputs: [undefined, Symbol.iterator] },
  {
    name: 'strictObject',
    schema: (z) => z.strictObject({ width: z.int().positive(), prompt: z.string().optional() }),
    inputs: [{ width: 2 }, { width: 0, prompt: 5 }, { width: 1, widht: 1 }, null],
  },
]

describe('zod.cjs, the zod of the bundled core', () => {
  it('holds exactly the members zod-members.ts lists, each the function zod has under that name', async () => {
    const listed = (await readFile(join(repoRoot, 'packages/core/src/zod-members.ts'), 'utf8')).match(/^export \{([^}]*)\}/m)?.[1]
    const names = (listed ?? '').split(',').map((n) => n.trim().split(/\s+as\s+/).at(-1) as string)
    expect(names.length).toBeGreaterThan(5)
    expect(Object.keys(slim).sort()).toEqual([...names].sort())
    for (const name of names) expect([name, typeof slim[name as keyof Zod]]).toEqual([name, typeof full[name as keyof Zod]])
  })

  it("carries zod's license, since it is a copy of zod's code", async () => {
    const license = await readFile(join(requireFromCore.resolve('zod/package.json'), '..', 'LICENSE'), 'utf8')
    expect(license).toContain('MIT License')
    expect(await readFile(slimPath, 'utf8')).toContain(license.trim())
  })

  it.each(cases)('$name: the same answer and the same English messages as zod for every input', ({ schema, inputs }) => {
    const [a, b] = [schema(slim), schema(full)]
    for (const input of inputs) {
      const [x, y] = [a.safeParse(input), b.safeParse(input)]
      expect(x.success).toBe(y.success)
      expect(x.error?.issues).toEqual(y.error?.issues)
      expect(x.data).toEqual(y.data)
    }
  })

  it('is the only zod a run that checks a config and a spec loads', async () => {
    const p = await tempProject({
      'vidspec.config.ts': "export default { provider: 'offline', concurrency: 0 }\n",
      'src/a.video.ts': "import { defineVideo } from '@vidspec/core'\nexport default defineVideo({ model: 'minimax/hailuo-02', prompt: 'p', steps: 'many' as unknown as number })\n",
      'loaded.mjs': [
        "import { createRequire } from 'node:module'",
        "import { writeFileSync } from 'node:fs'",
        'const cache = createRequire(import.meta.url).cache',
        "process.on('exit', () => writeFileSync(new URL('./loaded.json', import.meta.url), JSON.stringify(Object.keys(cache))))",
      ].join('\n'),
    })
    projects.push(p)
    const opts = { cwd: p.root, env: { NODE_OPTIONS: `--import ${p.path('loaded.mjs')}` } }
    const loadedZod = async () => (JSON.parse(await p.read('loaded.json')) as string[]).filter((f) => /[\\/]zod[\\/.]/.test(f))

    const config = await runCli(['plan'], opts)
    expect(config.stderr).toContain('concurrency: an integer from 1 to 64 (got 0)')
    expect(await loadedZod()).toEqual([slimPath])

    await p.write('vidspec.config.ts', "export default { provider: 'offline' }\n")
    const spec = await runCli(['plan'], opts)
    expect(spec.stdout).toContain('steps: an integer from 10 to 50 (got "many")')
    expect(await loadedZod()).toEqual([slimPath])
  })
})
