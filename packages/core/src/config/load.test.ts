import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { VidspecError } from '../errors.js'
import { loadConfig } from './load.js'

let root: string

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'vidspec-config-test-')))
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

async function loadError(opts: Parameters<typeof loadConfig>[1] = {}): Promise<VidspecError> {
  const err: unknown = await loadConfig(root, { env: {}, ...opts }).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(VidspecError)
  expect((err as VidspecError).code).toBe('CONFIG_INVALID')
  return err as VidspecError
}

describe('loadConfig', () => {
  it('uses the defaults when there is no config file', async () => {
    const { config, deps } = await loadConfig(root, { env: {} })
    expect(deps).toEqual([])
    expect(config.configFile).toBeUndefined()
    expect(config.cacheDir).toBe(join(root, '.vidspec'))
    expect(config.concurrency).toBe(4)
  })

  it('loads vidspec.config.ts with defineConfig from @vidspec/core (no node_modules) and its imports', async () => {
    await writeFile(join(root, 'shared.ts'), `export const parallel: number = 3\n`)
    await writeFile(
      join(root, 'vidspec.config.ts'),
      `import { defineConfig } from '@vidspec/core'\nimport { parallel } from './shared'\nexport default defineConfig({ concurrency: parallel, include: ['src/**/*.video.ts'] })\n`,
    )
    const { config, deps } = await loadConfig(root, { env: {}, overrides: { include: ['pages/**/*.video.ts'] } })
    expect(config.configFile).toBe(join(root, 'vidspec.config.ts'))
    expect(config.concurrency).toBe(3)
    expect(config.include).toEqual(['pages/**/*.video.ts'])
    expect(deps).toEqual([join(root, 'shared.ts'), join(root, 'vidspec.config.ts')])
  })

  it('prefers .ts over .mjs and finds .mjs alone', async () => {
    await writeFile(join(root, 'vidspec.config.mjs'), `export default { concurrency: 7 }\n`)
    expect((await loadConfig(root, { env: {} })).config.concurrency).toBe(7)
    await writeFile(join(root, 'vidspec.config.ts'), `export default { concurrency: 5 }\n`)
    expect((await loadConfig(root, { env: {} })).config.concurrency).toBe(5)
  })

  it('uses an explicit config file, relative to the root', async () => {
    await writeFile(join(root, 'ci.config.ts'), `export default { concurrency: 1 }\n`)
    const { config } = await loadConfig(root, { env: {}, configFile: 'ci.config.ts' })
    expect(config.configFile).toBe(join(root, 'ci.config.ts'))
    expect(config.concurrency).toBe(1)
  })

  it('fails for an explicit config file that does not exist', async () => {
    const err = await loadError({ configFile: 'nope.config.ts' })
    expect(err.message).toContain(join(root, 'nope.config.ts'))
    expect(err.message).toContain('not found')
  })

  it('names the file for an invalid value', async () => {
    await writeFile(join(root, 'vidspec.config.ts'), `export default { concurrency: 0 }\n`)
    const err = await loadError()
    expect(err.file).toBe(join(root, 'vidspec.config.ts'))
    expect(err.message).toContain(`${join(root, 'vidspec.config.ts')}: 1 problem`)
    expect(err.message).toContain('concurrency: an integer from 1 to 64 (got 0)')
  })

  it('turns a syntax error into CONFIG_INVALID naming the file and line', async () => {
    await writeFile(join(root, 'vidspec.config.ts'), `export default {\n  concurrency: 2,,\n}\n`)
    const err = await loadError()
    expect(err.message).toContain(`${join(root, 'vidspec.config.ts')}:2:`)
  })

  it('turns a throwing config into CONFIG_INVALID with the thrown message', async () => {
    await writeFile(join(root, 'vidspec.config.ts'), `throw new Error('no settings today')\n`)
    const err = await loadError()
    expect(err.message).toContain(join(root, 'vidspec.config.ts'))
    expect(err.message).toContain('no settings today')
  })

  it('rejects a config without an object default export, saying what to export', async () => {
    await writeFile(join(root, 'vidspec.config.ts'), `export const concurrency = 2\n`)
    expect((await loadError()).message).toContain('export default defineConfig(')
    await writeFile(join(root, 'vidspec.config.ts'), `export default 'fast'\n`)
    const err = await loadError()
    expect(err.message).toContain('its default export is a string ("fast"), not an object of options')
    expect(err.message).toContain('export default defineConfig(')
  })
})
