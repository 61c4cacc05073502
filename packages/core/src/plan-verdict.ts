// @vidspec/core/plan-verdict: what the CLI needs to answer a no-op `vidspec plan` before loading
// anything else (see plan/verdict.ts). Bundled on its own, apart from core's entry and its chunks:
// the point is to load a few KB instead of all of vidspec.
export { readPlanVerdict, type Verdict, type VerdictOutput } from './plan/verdict.js'
export { CONFIG_FILE_NAMES } from './config/names.js'
