import { resolve } from 'node:path'
import type * as Zod from 'zod'
import { VidspecError, formatIssues, showValue, type SpecIssue } from '../errors.js'
import { runtimeFlags, type RuntimeFlags } from '../flags.js'
import { relativeInside } from '../paths.js'
import { SPEC_EXTENSIONS } from '../spec/discover.js'
import { zod, type Zod as ZodMembers } from '../zod.js'
import type { ProviderName } from '../providers/types.js'
import { BUCKET_RE, REMOTE_MODE_ALLOWED, credentialIssues, hideRemoteValues, leaseIssues, resolveRemote, type ResolvedRemote } from '../remote/config.js'
import { LEASE_DEFAULTS } from '../remote/defaults.js'
import { RENDITIONS_ALLOWED, renditionsIssues } from '../renditions/validate.js'
import type { RenditionsInput } from '../renditions/types.js'
import { jobSettings } from './jobs.js'
import type { ModelPrice, VidspecConfigInput } from './types.js'

/**
 * A settings group with every option filled in: the input's own fields, none optional. Derived from
 * `VidspecConfigInput` (as Vite derives its ResolvedConfig from UserConfig), so an option added to
 * the input type is a type error here until resolution fills it.
 */
type Filled<T> = { [K in keyof T]-?: NonNullable<T[K]> extends readonly unknown[] ? NonNullable<T[K]> : NonNullable<T[K]> extends object ? Filled<NonNullable<T[K]>> : NonNullable<T[K]> }

type Input = VidspecConfigInput

/** The config every part of vidspec runs on: every option filled in, paths absolute. */
export type ResolvedConfig = Filled<Pick<Input, 'concurrency' | 'include' | 'ignore' | 'specTimeoutMs' | 'previews' | 'frozen' | 'jobs' | 'retry' | 'locks'>> & {
  /** Absolute project root; spec ids and globs are relative to it. */
  root: string
  /** Absolute path of the config file it came from, if any. */
  configFile?: string | undefined
  /** Absolute path of the store. */
  cacheDir: string
  /**
   * `auto` decided from the environment alone (see `providerSetting`); `Vidspec.open` finishes the
   * decision with the lockfile and the store (resolveProvider).
   */
  provider: ProviderName
  /** What the config and flags asked for, before `auto` was decided. */
  providerSetting: NonNullable<Input['provider']>
  /** Configured prices per model (lowercased model id). */
  prices: NonNullable<Input['prices']>
  /** Only the Together-specific settings: the provider-neutral ones moved to `jobs`. */
  together: Filled<Pick<NonNullable<Input['together']>, 'baseURL' | 'requestTimeoutMs'>>
  /** `allow`: absolute folders outside the root that local media may come from. */
  media: Filled<NonNullable<Input['media']>>
  /** The shared S3 cache; undefined when none is configured or its mode is off. */
  remote?: ResolvedRemote | undefined
  /** The VIDSPEC_* switches of the environment the project was opened with. */
  flags: RuntimeFlags
  /** The config's `renditions`, checked (defaults are filled in with the spec's and an import's, see renditions/resolve.ts). */
  renditions: RenditionsInput | false
}

/** The defaults of `VidspecConfigInput`, in one place (`previews` depends on CI, see resolveConfig). */
export const configDefaults = Object.freeze({
  cacheDir: '.vidspec',
  provider: 'auto',
  concurrency: 4,
  // Every spec file the plugin and watch mode recognise (SPEC_FILE_RE), so no spec is left unbuilt.
  include: Object.freeze([`**/*.video.{${SPEC_EXTENSIONS.join(',')}}`]),
  ignore: Object.freeze([] as string[]),
  together: Object.freeze({
    baseURL: 'https://api.together.ai/v2',
    requestTimeoutMs: 60_000,
  }),
  jobs: Object.freeze({
    jobTimeoutMs: 1_800_000,
    pollIntervalMs: 2000,
    maxPollIntervalMs: 15_000,
    downloadIdleTimeoutMs: 60_000,
  }),
  retry: Object.freeze({
    retries: 5,
    minDelayMs: 500,
    maxDelayMs: 30_000,
  }),
  locks: Object.freeze({
    staleMs: 30_000,
    otherHostStaleMs: 3_600_000,
  }),
  previews: 'warn',
  specTimeoutMs: 5000,
  media: Object.freeze({ allow: Object.freeze([] as string[]) }),
  frozen: false,
  prices: Object.freeze({} as Record<string, ModelPrice>),
} as const)

interface Rule {
  schema: Zod.ZodType
  /** What is allowed, in words, for error messages. */
  allowed: string
}

const DAY_MS = 86_400_000

function isHttpURL(s: string): boolean {
  try {
    const u = new URL(s)
    return u.protocol === 'http:' || u.protocol === 'https:'
  } catch {
    return false
  }
}
const PRICES_ALLOWED =
  "an object of model id -> { perSecond } or { perVideo }: dollars (>= 0), one number or one per resolution, e.g. { 'minimax/hailuo-02': { perVideo: { '768p': 0.28 } } }"

function pricesSchema(z: ZodMembers): Zod.ZodType {
  const table = z.union([z.number().nonnegative().finite(), z.record(z.string().trim().min(1), z.number().nonnegative().finite())])
  const price = z.union([z.strictObject({ perSecond: table }), z.strictObject({ perVideo: table })])
  return z.record(z.string().trim().min(1), price)
}

const HTTP_URL_ALLOWED = 'an http(s) URL, e.g. "https://api.together.ai/v2"'

// The schema and the words used to explain it come from one table, so they cannot drift apart.
function buildRules(z: ZodMembers) {
  const rule = (schema: Zod.ZodType, allowed: string): Rule => ({ schema, allowed })
  const intIn = (min: number, max: number, unit = ''): Rule =>
    rule(z.number().int().min(min).max(max), `an integer from ${min} to ${max}${unit}`)
  const httpURL = z.string().refine(isHttpURL)
  const jobRules = {
    jobTimeoutMs: intIn(1, DAY_MS, ' (milliseconds)'),
    pollIntervalMs: intIn(1, 600_000, ' (milliseconds)'),
    maxPollIntervalMs: intIn(1, 600_000, ' (milliseconds)'),
    downloadIdleTimeoutMs: intIn(1, 3_600_000, ' (milliseconds)'),
  }
  return {
    cacheDir: rule(z.string().trim().min(1), 'a non-empty folder path, relative to the project root'),
    provider: rule(z.enum(['auto', 'together', 'offline']), '"auto", "together" or "offline"'),
    concurrency: intIn(1, 64),
    include: rule(z.array(z.string().trim().min(1)).min(1), 'a non-empty array of glob strings, e.g. ["**/*.video.ts"]'),
    ignore: rule(z.array(z.string().trim().min(1)), 'an array of glob strings, e.g. ["drafts/**"]'),
    // The job settings' old names stay accepted here (deprecated), in their old order for messages.
    together: {
      baseURL: rule(httpURL, HTTP_URL_ALLOWED),
      jobTimeoutMs: jobRules.jobTimeoutMs,
      pollIntervalMs: jobRules.pollIntervalMs,
      maxPollIntervalMs: jobRules.maxPollIntervalMs,
      requestTimeoutMs: intIn(1, 600_000, ' (milliseconds)'),
      downloadIdleTimeoutMs: jobRules.downloadIdleTimeoutMs,
    },
    jobs: jobRules,
    retry: {
      retries: intIn(0, 20),
      minDelayMs: intIn(0, 600_000, ' (milliseconds)'),
      maxDelayMs: intIn(0, 600_000, ' (milliseconds)'),
    },
    locks: {
      staleMs: intIn(1, DAY_MS, ' (milliseconds)'),
      otherHostStaleMs: intIn(1, 7 * DAY_MS, ' (milliseconds)'),
    },
    previews: rule(z.enum(['allow', 'warn', 'error']), '"allow", "warn" or "error"'),
    specTimeoutMs: intIn(100, 600_000, ' (milliseconds)'),
    media: {
      allow: rule(z.array(z.string().trim().min(1)), 'an array of folder paths (absolute, or relative to the project root), e.g. ["../shared-assets"]'),
    },
    frozen: rule(z.boolean(), 'true or false'),
    prices: rule(pricesSchema(z), PRICES_ALLOWED),
    remote: {
      mode: rule(z.enum(['read-write', 'read-only', 'off']), REMOTE_MODE_ALLOWED),
      s3: {
        bucket: rule(z.string().regex(BUCKET_RE), 'an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens'),
        prefix: rule(z.string(), 'a key prefix inside the bucket, e.g. "vidspec/site"'),
        region: rule(z.string().trim().min(1), 'a region name, e.g. "eu-west-1" ("auto" for Cloudflare R2)'),
        endpoint: rule(httpURL, 'an http(s) URL of an S3-compatible endpoint, e.g. "https://<account>.r2.cloudflarestorage.com"'),
        forcePathStyle: rule(z.boolean(), 'true or false'),
      },
      requestTimeoutMs: intIn(100, 600_000, ' (milliseconds)'),
      lease: {
        heartbeatMs: intIn(10, 600_000, ' (milliseconds)'),
        staleMs: intIn(100, DAY_MS, ' (milliseconds)'),
        waitMs: intIn(1, DAY_MS, ' (milliseconds)'),
      },
    },
    // Checked field by field by renditions/validate.ts, which words every problem.
    renditions: rule(z.unknown(), RENDITIONS_ALLOWED['']),
  } satisfies Record<keyof VidspecConfigInput, Rule | RuleTree>
}

let built: { rules: RuleTree; schema: Zod.ZodType } | undefined
function schema(): { rules: RuleTree; schema: Zod.ZodType } {
  if (!built) {
    const rules = buildRules(zod())
    built = { rules, schema: schemaOf(rules) }
  }
  return built
}

type RuleTree = { [key: string]: Rule | RuleTree }

function isRule(node: Rule | RuleTree): node is Rule {
  return 'schema' in node && node.schema instanceof zod().ZodType
}

function schemaOf(tree: RuleTree): Zod.ZodType {
  const shape: Record<string, Zod.ZodType> = {}
  for (const [key, node] of Object.entries(tree)) {
    shape[key] = (isRule(node) ? node.schema : schemaOf(node)).optional()
  }
  return zod().strictObject(shape)
}

/** Validates a config object against the schema (unknown keys rejected). */
function check(input: unknown): { data: VidspecConfigInput; issues: SpecIssue[] } {
  // Nothing to check in an empty object (no options given), and no reason to load zod for it.
  if (typeof input === 'object' && input !== null && !Array.isArray(input) && Object.keys(input).length === 0) {
    return { data: {}, issues: [] }
  }
  const result = schema().schema.safeParse(input)
  if (result.success) return { data: result.data as VidspecConfigInput, issues: [] }
  return { data: {}, issues: result.error.issues.flatMap((issue) => explain(issue, input)) }
}

function explain(issue: Zod.core.$ZodIssue, input: unknown): SpecIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
  if (issue.code === 'unrecognized_keys') {
    const node = nodeAt(schema().rules, path)
    const known = node && !isRule(node) ? Object.keys(node) : []
    return issue.keys.map((key) => ({
      path: showPath([...path, key]),
      value: showValue(valueAt(input, [...path, key])),
      message: `unknown option; the options here are ${known.join(', ')}`,
    }))
  }
  if (path.length === 0) {
    return [{ path: '', value: showValue(input), message: 'an object of options, e.g. defineConfig({ concurrency: 2 })' }]
  }
  const node = nodeAt(schema().rules, path.filter((p) => typeof p === 'string'))
  const allowed = node && isRule(node) ? node.allowed : node ? 'an object of options' : issue.message
  return [{ path: showPath(path), value: showValue(valueAt(input, path)), message: allowed }]
}

function nodeAt(tree: RuleTree, path: Array<string | number>): Rule | RuleTree | undefined {
  let node: Rule | RuleTree | undefined = tree
  for (const key of path) {
    if (!node || isRule(node) || typeof key !== 'string') return node
    node = node[key]
  }
  return node
}

function valueAt(input: unknown, path: Array<string | number>): unknown {
  let value = input
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined
    value = (value as Record<string | number, unknown>)[key]
  }
  return value
}

function showPath(path: Array<string | number>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')
}

function invalid(source: string, issues: SpecIssue[], file: string | undefined): VidspecError {
  const shown = hideRemoteValues(issues)
  return new VidspecError('CONFIG_INVALID', formatIssues(source, shown), { ...(file ? { file } : {}), issues: shown })
}

/** Drops undefined values, so an unset CLI flag never hides what the config file says. */
function defined<T extends object>(obj: T | undefined): Partial<T> {
  if (!obj) return {}
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>
}

function isInside(child: string, parent: string): boolean {
  return child === parent || relativeInside(parent, child) !== undefined
}

function cacheDirIssue(root: string, cacheDirInput: string): SpecIssue | undefined {
  const cacheDir = resolve(root, cacheDirInput)
  if (cacheDir.split(/[\\/]/).includes('node_modules')) {
    return {
      path: 'cacheDir',
      value: showValue(cacheDirInput),
      message:
        'a folder outside node_modules: `npm ci` and package managers delete node_modules, and the store holds paid, unrepeatable generations (the default is ".vidspec")',
    }
  }
  if (isInside(root, cacheDir)) {
    return {
      path: 'cacheDir',
      value: showValue(cacheDirInput),
      message: 'a folder of its own inside or beside the project, not the project root or one of its parents (the default is ".vidspec")',
    }
  }
  return undefined
}

export interface ResolveConfigOptions {
  /** Project root (made absolute). */
  root: string
  /** The config file the input came from, for messages. */
  file?: string | undefined
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv | undefined
  /** CLI flags or Vite plugin options; they win over the file. */
  overrides?: Partial<VidspecConfigInput> | undefined
  /** The input passed this check before and has not changed since (the config memo says so). */
  checked?: boolean | undefined
  /** Told about each deprecated setting in use (the project says it through its logger). */
  onDeprecated?: ((message: string) => void) | undefined
}

/**
 * Validates a config (the file's default export) and fills in every default. Throws CONFIG_INVALID
 * naming the file (or the overrides), every bad field, its value and what is allowed.
 */
export function resolveConfig(input: unknown, opts: ResolveConfigOptions): ResolvedConfig {
  const root = resolve(opts.root)
  const env = opts.env ?? process.env
  const file = opts.file === undefined ? undefined : resolve(root, opts.file)
  const source = file ?? 'vidspec config'

  const leaked = credentialIssues(input)
  if (leaked.length > 0) throw invalid(source, leaked, file)
  const fromFile = opts.checked ? { data: (input ?? {}) as VidspecConfigInput, issues: [] } : check(input ?? {})
  if (fromFile.issues.length > 0) {
    // Report a misplaced store in the same round as the schema problems, not after they are fixed.
    const rawCacheDir = valueAt(input, ['cacheDir'])
    const more = typeof rawCacheDir === 'string' && rawCacheDir.trim() ? cacheDirIssue(root, rawCacheDir.trim()) : undefined
    throw invalid(source, more ? [...fromFile.issues, more] : fromFile.issues, file)
  }
  const fromOptions = check(opts.overrides ?? {})
  if (fromOptions.issues.length > 0) {
    throw invalid('options passed on the command line or to the Vite plugin', fromOptions.issues, undefined)
  }

  const cfg = fromFile.data
  const over = defined(fromOptions.data)
  const together = { ...defined(cfg.together), ...defined(over.together) }
  const jobs = jobSettings(cfg, over, opts.onDeprecated)
  const retry = { ...defined(cfg.retry), ...defined(over.retry) }
  const locks = { ...defined(cfg.locks), ...defined(over.locks) }
  const pick = <K extends keyof VidspecConfigInput>(key: K): VidspecConfigInput[K] => (key in over ? over[key] : cfg[key])

  const envBaseURL = env.TOGETHER_BASE_URL?.trim()
  if (envBaseURL && !isHttpURL(envBaseURL)) {
    throw invalid('environment', [{ path: 'TOGETHER_BASE_URL', value: showValue(envBaseURL), message: HTTP_URL_ALLOWED }], undefined)
  }

  const issues: SpecIssue[] = []
  const cacheDirInput = pick('cacheDir') ?? configDefaults.cacheDir
  const cacheDir = resolve(root, cacheDirInput)
  const cacheDirProblem = cacheDirIssue(root, cacheDirInput)
  if (cacheDirProblem) issues.push(cacheDirProblem)

  const pollIntervalMs = jobs.values.pollIntervalMs ?? configDefaults.jobs.pollIntervalMs
  // An unset ceiling follows a raised first interval; only two explicit values can contradict.
  const maxPollIntervalMs = jobs.values.maxPollIntervalMs ?? Math.max(configDefaults.jobs.maxPollIntervalMs, pollIntervalMs)
  if (maxPollIntervalMs < pollIntervalMs) {
    issues.push({
      path: `${jobs.from.maxPollIntervalMs ?? 'jobs'}.maxPollIntervalMs`,
      value: showValue(maxPollIntervalMs),
      message: `at least ${jobs.from.pollIntervalMs ?? 'jobs'}.pollIntervalMs (${pollIntervalMs})`,
    })
  }
  const minDelayMs = retry.minDelayMs ?? configDefaults.retry.minDelayMs
  const maxDelayMs = retry.maxDelayMs ?? Math.max(configDefaults.retry.maxDelayMs, minDelayMs)
  if (maxDelayMs < minDelayMs) {
    issues.push({ path: 'retry.maxDelayMs', value: showValue(maxDelayMs), message: `at least retry.minDelayMs (${minDelayMs})` })
  }
  const flags = runtimeFlags(env)
  const remote = resolveRemote(pick('remote'), env, flags.remoteMode)
  if (remote.envIssues.length > 0) throw invalid('environment', remote.envIssues, undefined)
  issues.push(...remote.issues)
  if (remote.remote) issues.push(...leaseIssues(remote.remote.lease, LEASE_DEFAULTS))
  issues.push(...renditionsIssues(pick('renditions'), 'renditions', 'config'))
  if (issues.length > 0) throw invalid(source, issues, file)

  const provider = pick('provider') ?? configDefaults.provider
  const prices = Object.fromEntries(Object.entries(pick('prices') ?? {}).map(([model, price]) => [model.toLowerCase(), price]))
  return {
    root,
    configFile: file,
    cacheDir,
    provider: provider === 'auto' ? (env.TOGETHER_API_KEY?.trim() ? 'together' : 'offline') : provider,
    providerSetting: provider,
    frozen: pick('frozen') ?? env.CI === 'true',
    prices,
    concurrency: pick('concurrency') ?? configDefaults.concurrency,
    include: [...(pick('include') ?? configDefaults.include)],
    ignore: [...(pick('ignore') ?? configDefaults.ignore)],
    together: {
      baseURL: envBaseURL || (together.baseURL ?? configDefaults.together.baseURL),
      requestTimeoutMs: together.requestTimeoutMs ?? configDefaults.together.requestTimeoutMs,
    },
    jobs: {
      jobTimeoutMs: jobs.values.jobTimeoutMs ?? configDefaults.jobs.jobTimeoutMs,
      pollIntervalMs,
      maxPollIntervalMs,
      downloadIdleTimeoutMs: jobs.values.downloadIdleTimeoutMs ?? configDefaults.jobs.downloadIdleTimeoutMs,
    },
    retry: { retries: retry.retries ?? configDefaults.retry.retries, minDelayMs, maxDelayMs },
    locks: {
      staleMs: locks.staleMs ?? configDefaults.locks.staleMs,
      otherHostStaleMs: locks.otherHostStaleMs ?? configDefaults.locks.otherHostStaleMs,
    },
    previews: pick('previews') ?? (env.CI === 'true' ? 'error' : configDefaults.previews),
    specTimeoutMs: pick('specTimeoutMs') ?? configDefaults.specTimeoutMs,
    media: { allow: (pick('media')?.allow ?? configDefaults.media.allow).map((folder) => resolve(root, folder)) },
    remote: remote.remote,
    flags,
    renditions: pick('renditions') === false ? false : { ...(pick('renditions') || {}) },
  }
}
