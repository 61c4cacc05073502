import type { ParseArgsConfig } from 'node:util'

export type Options = NonNullable<ParseArgsConfig['options']>

/** Flags every command takes. */
export const commonOptions = {
  root: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options

/** `vidspec plan`'s flags: here, apart from the command, for its early answer (plan-replay.ts). */
export const planOptions = { ...commonOptions, provider: { type: 'string' }, explain: { type: 'boolean' } } as const satisfies Options
