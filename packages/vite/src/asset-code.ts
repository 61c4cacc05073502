import type { VideoAsset } from '@vidspec/core'
import { HMR_RUNTIME_ID } from './hmr-runtime.js'

/** A value for the module text: plain data, or an expression the bundler resolves (a file URL). */
export type Field = { json: unknown } | { expr: string }

export const json = (value: unknown): Field => ({ json: value })
export const expr = (code: string): Field => ({ expr: code })

type AssetFields = { [K in keyof VideoAsset]-?: Field }

function objectLiteral(fields: Partial<AssetFields>): string {
  const body = Object.entries(fields)
    .filter((e): e is [string, Field] => e[1] !== undefined)
    .filter(([, f]) => !('json' in f) || f.json !== undefined)
    .map(([k, f]) => `  ${JSON.stringify(k)}: ${'expr' in f ? f.expr : JSON.stringify(f.json)},`)
  return `{\n${body.join('\n')}\n}`
}

/** The module a spec becomes in `vite build`: the asset, URLs left for the bundler to fill in. */
export function buildModuleCode(fields: Partial<AssetFields>): string {
  return `export default ${objectLiteral(fields)}\n`
}

/**
 * The module a spec becomes in dev. It accepts its own updates (the `import.meta.hot.accept` text
 * is what tells Vite so), and the runtime keeps the object the page first imported up to date.
 */
export function devModuleCode(fields: Partial<AssetFields>): string {
  return [
    `import { track } from ${JSON.stringify(HMR_RUNTIME_ID)}`,
    `const asset = track(import.meta.hot, ${objectLiteral(fields)})`,
    'export default asset',
    'if (import.meta.hot) import.meta.hot.accept()',
    '',
  ].join('\n')
}

/** Plain-data fields of an asset (dev URLs are plain strings). */
export function dataFields(asset: VideoAsset): Partial<AssetFields> {
  const out: Partial<AssetFields> = {}
  for (const [k, v] of Object.entries(asset) as Array<[keyof VideoAsset, unknown]>) {
    if (v !== undefined) out[k] = json(v)
  }
  return out
}
