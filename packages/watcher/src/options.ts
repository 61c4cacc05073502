import { parseArgs, type ParseArgsConfig } from 'node:util'

export type Options = NonNullable<ParseArgsConfig['options']>

export type Parsed<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: false; strict: true; allowNegative: true }>
>

/** A command's flags, strictly: an unknown flag, a stray argument or a missing value throws Node's error. */
export function parseFlags<T extends Options>(argv: string[], options: T): Parsed<T> {
  return parseArgs({ args: argv, options, allowPositionals: false, strict: true, allowNegative: true })
}

/** Flags every command takes. */
export const commonOptions = {
  root: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options

/** `vidspec plan`'s flags: here, apart from the command, for its early answer (plan-replay.ts). */
export const planOptions = { ...commonOptions, provider: { type: 'string' }, explain: { type: 'boolean' } } as const satisfies Options
