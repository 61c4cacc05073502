/*
 * The part of zod that core uses. scripts/bundle.mjs bundles this file alone into
 * dist/bundle/zod.cjs: one file of ~190 KB that loads in ~15 ms, where `require('zod')` loads ~95
 * modules, 64 of them locales core never shows, in ~70-100 ms, on every run that checks a config or
 * a spec. zod's schemas set its English messages themselves on first use. `Zod` in zod.ts is this
 * module's type, so a member used but not listed here fails the typecheck.
 */
export { ZodType, array, boolean, enum, int, number, record, strictObject, string, union, unknown } from 'zod'
