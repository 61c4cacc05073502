import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

export type Zod = typeof import('./zod-members.js')

let zodModule: Zod | undefined

/**
 * zod, loaded on first use and only then: a run whose config and specs all come from their memos
 * never pays for it. Synchronous, because the config check is: so CommonJS, the one copy every user
 * gets. From the bundled core that is dist/bundle/zod.cjs, only the members core uses (see
 * zod-members.ts); run from its sources or tsc's output, core loads the whole package.
 */
export function zod(): Zod {
  if (zodModule) return zodModule
  const require = createRequire(import.meta.url)
  const slim = fileURLToPath(new URL('./zod.cjs', import.meta.url))
  zodModule = (existsSync(slim) ? require(slim) : require('zod')) as Zod
  return zodModule
}
