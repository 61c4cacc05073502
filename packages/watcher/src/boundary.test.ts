import { readFile, readdir } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The adapters are thin: every rule about paid work lives in core, behind `Vidspec` and core's public
// entry. A deep import or a reach into the project's parts would let an adapter decide availability,
// gc or previews on its own again (ARCHITECTURE.md, "who may call whom").
const packages = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const ADAPTERS = ['vite/src', 'watcher/src']

async function sources(dir: string): Promise<string[]> {
  const found: string[] = []
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, d.name)
    if (d.isDirectory()) found.push(...(await sources(path)))
    else if (/\.(ts|mts)$/.test(d.name) && !/\.test\.ts$/.test(d.name)) found.push(path)
  }
  return found
}

const files = (await Promise.all(ADAPTERS.map((a) => sources(join(packages, a))))).flat()

describe('adapter boundary', () => {
  it('finds the adapters', () => {
    expect(files.length).toBeGreaterThan(10)
  })

  it.each(files.map((f) => [relative(packages, f), f]))('%s imports core only through @vidspec/core', async (_name, file) => {
    const text = await readFile(file, 'utf8')
    const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '')
    const core = specifiers.filter((s) => s.includes('vidspec/core') || s.includes('core/src') || s.includes('core/dist'))
    expect(core.filter((s) => s !== '@vidspec/core' && s !== '@vidspec/core/plan-verdict')).toEqual([])
  })

  // The CLI's early answer to a no-op plan loads before anything else: it must not pull in core's entry.
  it.each(['watcher/src/plan-replay.ts', 'watcher/src/root.ts', 'watcher/src/options.ts', 'watcher/src/output.ts'])('%s imports nothing of core but its plan-verdict entry', async (name) => {
    const text = await readFile(join(packages, name), 'utf8')
    const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '')
    for (const s of specifiers) expect(s.startsWith('node:') || s.startsWith('./') || s === '@vidspec/core/plan-verdict', s).toBe(true)
  })

  it.each(files.map((f) => [relative(packages, f), f]))("%s never reaches into a project's store, runner or remote", async (_name, file) => {
    const text = await readFile(file, 'utf8')
    const reaches = [...text.matchAll(/\b(?:project|#project|vs|vidspec)\??\.(store|runner|remote)\b/g)].map((m) => m[0])
    expect(reaches).toEqual([])
  })
})
