import { createRequire } from 'node:module'
import type * as Zod from 'zod'

let zodModule: typeof Zod | undefined

/**
 * zod, loaded on first use and only then: a run whose config and specs all come from their memos
 * never pays for it. Its CommonJS build for every user, because the config check is synchronous
 * and cannot import; the spec schema importing the ESM build would load zod's other copy as well
 * (~85 ms each on a fresh process).
 */
export const zod = (): typeof Zod => (zodModule ??= createRequire(import.meta.url)('zod') as typeof Zod)
