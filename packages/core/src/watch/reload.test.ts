import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { Vidspec } from '../project.js'
import { reloadProject } from './reload.js'

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vidspec-reload-'))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

const open = () => Vidspec.open({ root, env: { VIDSPEC_NO_MEMO: '1' }, createStore: false })

it('gives the new project with its store ready, named by its config file', async () => {
  await writeFile(join(root, 'vidspec.config.ts'), "export default { provider: 'offline' }\n")
  const current = await open()
  await writeFile(join(root, 'vidspec.config.ts'), "export default { provider: 'offline', cacheDir: 'other-store' }\n")
  const reload = await reloadProject(current, open)
  expect(reload.project?.config.cacheDir).toBe(join(root, 'other-store'))
  expect(existsSync(join(root, 'other-store'))).toBe(true)
  expect(reload.message).toBe('vidspec.config.ts changed: reloaded (provider offline)')
})

it('keeps the previous project when the edited config does not load, and says why', async () => {
  await writeFile(join(root, 'vidspec.config.ts'), "export default { provider: 'offline' }\n")
  const current = await open()
  await writeFile(join(root, 'vidspec.config.ts'), 'export default { concurrency: -1 }\n')
  const reload = await reloadProject(current, open)
  expect(reload.project).toBeUndefined()
  expect(reload.message).toMatch(/^vidspec\.config\.ts changed but could not be loaded \(keeping the previous config\): [\s\S]*concurrency/)
})
