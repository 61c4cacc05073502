import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { VidspecError } from '../errors.js'
import { configDefaults, resolveConfig } from './resolve.js'

const root = resolve('/projects/site')
const file = resolve(root, 'vidspec.config.ts')

function invalid(input: unknown, opts: Partial<Parameters<typeof resolveConfig>[1]> = {}): VidspecError {
  try {
    resolveConfig(input, { root, file, env: {}, ...opts })
  } catch (err) {
    expect(err).toBeInstanceOf(VidspecError)
    expect((err as VidspecError).code).toBe('CONFIG_INVALID')
    return err as VidspecError
  }
  throw new Error('expected CONFIG_INVALID')
}

describe('resolveConfig', () => {
  it('takes job settings from jobs, and still from their old names under together with a deprecation each', () => {
    const said: string[] = []
    const onDeprecated = (m: string): void => void said.push(m)
    const fresh = resolveConfig({ jobs: { jobTimeoutMs: 900, pollIntervalMs: 30 } }, { root, env: {}, onDeprecated })
    expect(fresh.jobs).toEqual({ jobTimeoutMs: 900, pollIntervalMs: 30, maxPollIntervalMs: 15_000, downloadIdleTimeoutMs: 60_000 })
    expect(said).toEqual([])
    const old = resolveConfig(
      { together: { downloadIdleTimeoutMs: 200, pollIntervalMs: 40 }, jobs: { pollIntervalMs: 30 } },
      { root, env: {}, onDeprecated, overrides: { together: { downloadIdleTimeoutMs: 300 } } },
    )
    expect(old.jobs).toMatchObject({ pollIntervalMs: 30, downloadIdleTimeoutMs: 300 })
    expect(said).toEqual([
      'together.pollIntervalMs is deprecated: it applies to every provider\'s jobs, so it moved to jobs.pollIntervalMs',
      'together.downloadIdleTimeoutMs is deprecated: it applies to every provider\'s jobs, so it moved to jobs.downloadIdleTimeoutMs',
    ])
    expect(() => resolveConfig({ jobs: { pollIntervalMs: 500, maxPollIntervalMs: 10 } }, { root, env: {} })).toThrow(/jobs\.maxPollIntervalMs: at least jobs\.pollIntervalMs/)
  })

  it('fills every default, with absolute paths', () => {
    const config = resolveConfig({}, { root: '/projects/site/', env: {} })
    expect(config).toEqual({
      root,
      configFile: undefined,
      cacheDir: resolve(root, '.vidspec'),
      provider: 'offline',
      concurrency: 4,
      include: ['**/*.video.{ts,mts,js,mjs}'],
      ignore: [],
      together: {
        baseURL: 'https://api.together.ai/v2',
        requestTimeoutMs: 60_000,
      },
      jobs: {
        jobTimeoutMs: 1_800_000,
        pollIntervalMs: 2000,
        maxPollIntervalMs: 15_000,
        downloadIdleTimeoutMs: 60_000,
      },
      retry: { retries: 5, minDelayMs: 500, maxDelayMs: 30_000 },
      locks: { staleMs: 30_000, otherHostStaleMs: 3_600_000 },
      previews: 'warn',
      specTimeoutMs: 5000,
      media: { allow: [] },
      providerSetting: 'auto',
      frozen: false,
      prices: {},
      renditions: {},
      flags: { noMemo: false, debug: false },
    })
  })

  it('takes lock limits from the config, and names a bad one', () => {
    expect(resolveConfig({ locks: { otherHostStaleMs: 600_000 } }, { root, env: {} }).locks).toEqual({
      staleMs: 30_000,
      otherHostStaleMs: 600_000,
    })
    expect(() => resolveConfig({ locks: { staleMs: 0 } }, { root, env: {} })).toThrow(/locks\.staleMs/)
  })

  it('takes the spec timeout and media folders, the folders made absolute from the root', () => {
    const config = resolveConfig({ specTimeoutMs: 1500, media: { allow: ['../assets', '/srv/media'] } }, { root, env: {} })
    expect(config.specTimeoutMs).toBe(1500)
    expect(config.media.allow).toEqual([resolve(root, '../assets'), '/srv/media'])
    expect(() => resolveConfig({ specTimeoutMs: 0 }, { root, env: {} })).toThrow(/specTimeoutMs[\s\S]*an integer from 100 to 600000/)
    expect(() => resolveConfig({ media: { allow: 'x' } }, { root, env: {} })).toThrow(/media\.allow[\s\S]*an array of folder paths/)
  })

  it('freezes builds by default on CI only, and an explicit frozen wins', () => {
    expect(resolveConfig({}, { root, env: { CI: 'true' } }).frozen).toBe(true)
    expect(resolveConfig({}, { root, env: {} }).frozen).toBe(false)
    expect(resolveConfig({ frozen: false }, { root, env: { CI: 'true' } }).frozen).toBe(false)
    expect(resolveConfig({}, { root, env: { CI: 'true' }, overrides: { frozen: false } }).frozen).toBe(false)
  })

  it('takes prices per model (per second or per video, one number or per resolution) and rejects the rest', () => {
    const prices = { 'MiniMax/Hailuo-02': { perVideo: { '768p': 0.28 } }, 'x/y': { perSecond: 0.1 } }
    expect(resolveConfig({ prices }, { root, env: {} }).prices).toEqual({
      'minimax/hailuo-02': { perVideo: { '768p': 0.28 } },
      'x/y': { perSecond: 0.1 },
    })
    for (const bad of [{ 'x/y': { perSecond: -1 } }, { 'x/y': { perSecond: 1, perVideo: 2 } }, { 'x/y': 0.3 }, { 'x/y': { perMinute: 1 } }]) {
      expect(() => resolveConfig({ prices: bad }, { root, file, env: {} })).toThrow(/prices[\s\S]*perSecond \} or \{ perVideo/)
    }
  })

  it('treats a missing config (undefined) like an empty one', () => {
    expect(resolveConfig(undefined, { root, env: {} })).toEqual(resolveConfig({}, { root, env: {} }))
  })

  it('keeps the defaults object frozen and unshared with results', () => {
    expect(Object.isFrozen(configDefaults)).toBe(true)
    expect(Object.isFrozen(configDefaults.together)).toBe(true)
    const config = resolveConfig({}, { root, env: {} })
    config.include.push('x')
    expect(configDefaults.include).toEqual(['**/*.video.{ts,mts,js,mjs}'])
  })

  it('uses the values of the file', () => {
    const config = resolveConfig(
      { cacheDir: '../cache', concurrency: 2, include: ['src/**/*.video.ts'], ignore: ['drafts/**'], retry: { retries: 1 }, together: { pollIntervalMs: 10 } },
      { root, file, env: {} },
    )
    expect(config.configFile).toBe(file)
    expect(config.cacheDir).toBe(resolve(root, '../cache'))
    expect(config.concurrency).toBe(2)
    expect(config.include).toEqual(['src/**/*.video.ts'])
    expect(config.ignore).toEqual(['drafts/**'])
    expect(config.retry).toEqual({ retries: 1, minDelayMs: 500, maxDelayMs: 30_000 })
    expect(config.jobs.pollIntervalMs).toBe(10)
    expect(config.jobs.maxPollIntervalMs).toBe(15_000)
  })

  it('picks together for provider auto only when TOGETHER_API_KEY is set and non-empty', () => {
    expect(resolveConfig({}, { root, env: { TOGETHER_API_KEY: 'tk-123' } }).provider).toBe('together')
    expect(resolveConfig({}, { root, env: { TOGETHER_API_KEY: '' } }).provider).toBe('offline')
    expect(resolveConfig({}, { root, env: { TOGETHER_API_KEY: '  ' } }).provider).toBe('offline')
    expect(resolveConfig({}, { root, env: {} }).provider).toBe('offline')
    expect(resolveConfig({ provider: 'auto' }, { root, env: { TOGETHER_API_KEY: 'tk' } }).provider).toBe('together')
  })

  it('keeps an explicit provider whatever the environment says', () => {
    expect(resolveConfig({ provider: 'offline' }, { root, env: { TOGETHER_API_KEY: 'tk' } }).provider).toBe('offline')
    expect(resolveConfig({ provider: 'together' }, { root, env: {} }).provider).toBe('together')
  })

  it('lets TOGETHER_BASE_URL win over the file and the overrides', () => {
    const input = { together: { baseURL: 'https://proxy.example/v2' } }
    expect(resolveConfig(input, { root, env: {} }).together.baseURL).toBe('https://proxy.example/v2')
    const env = { TOGETHER_BASE_URL: 'http://127.0.0.1:4010/v2' }
    expect(resolveConfig(input, { root, env }).together.baseURL).toBe('http://127.0.0.1:4010/v2')
    expect(resolveConfig(input, { root, env, overrides: { together: { baseURL: 'https://other.example' } } }).together.baseURL).toBe(
      'http://127.0.0.1:4010/v2',
    )
  })

  it('rejects a TOGETHER_BASE_URL that is not an http(s) URL, naming the variable', () => {
    const err = invalid({}, { env: { TOGETHER_BASE_URL: 'localhost:4010' } })
    expect(err.message).toContain('TOGETHER_BASE_URL')
    expect(err.message).toContain('"localhost:4010"')
    expect(err.message).toContain('http(s) URL')
  })

  it('lets overrides win over the file, field by field, ignoring unset ones', () => {
    const config = resolveConfig(
      { concurrency: 2, provider: 'offline', together: { jobTimeoutMs: 5000, pollIntervalMs: 100 } },
      { root, file, env: {}, overrides: { concurrency: 8, provider: undefined, together: { pollIntervalMs: 50 } } },
    )
    expect(config.concurrency).toBe(8)
    expect(config.provider).toBe('offline')
    expect(config.jobs.jobTimeoutMs).toBe(5000)
    expect(config.jobs.pollIntervalMs).toBe(50)
  })

  it('makes previews an error on CI unless set', () => {
    expect(resolveConfig({}, { root, env: { CI: 'true' } }).previews).toBe('error')
    expect(resolveConfig({}, { root, env: { CI: 'false' } }).previews).toBe('warn')
    expect(resolveConfig({ previews: 'allow' }, { root, env: { CI: 'true' } }).previews).toBe('allow')
  })

  it('names the file, the field, the value and what is allowed', () => {
    const err = invalid({ concurrency: 0 })
    expect(err.file).toBe(file)
    expect(err.message).toContain(file)
    expect(err.message).toContain('concurrency')
    expect(err.message).toContain('got 0')
    expect(err.message).toContain('an integer from 1 to 64')
    expect(err.issues).toEqual([{ path: 'concurrency', value: '0', message: 'an integer from 1 to 64' }])
  })

  it('reports every bad field at once, nested paths included', () => {
    const err = invalid({ concurrency: 2.5, provider: 'openai', include: ['ok', ''], together: { pollIntervalMs: -1 } })
    expect(err.issues.map((i) => i.path).sort()).toEqual(['concurrency', 'include[1]', 'provider', 'together.pollIntervalMs'])
    expect(err.message).toContain('provider: "auto", "together" or "offline" (got "openai")')
    expect(err.message).toContain('together.pollIntervalMs: an integer from 1 to 600000 (milliseconds) (got -1)')
  })

  it('rejects unknown keys, listing the known ones', () => {
    const err = invalid({ concurency: 2, together: { apiKey: 'tk' } })
    expect(err.issues.map((i) => i.path).sort()).toEqual(['concurency', 'together.apiKey'])
    expect(err.message).toContain('concurency: unknown option')
    expect(err.message).toContain('cacheDir, provider, concurrency')
    expect(err.message).toContain('together.apiKey: unknown option; the options here are baseURL, jobTimeoutMs')
  })

  it('rejects a config that is not an object', () => {
    const err = invalid(['**/*.video.ts'])
    expect(err.message).toContain(file)
    expect(err.message).toContain('an object of options')
  })

  it('rejects a cacheDir inside node_modules and says why', () => {
    const err = invalid({ cacheDir: 'node_modules/.cache/vidspec' })
    expect(err.message).toContain(file)
    expect(err.message).toContain('cacheDir')
    expect(err.message).toContain('"node_modules/.cache/vidspec"')
    expect(err.message).toContain('outside node_modules')
    expect(err.message).toContain('npm ci')
    expect(err.message).toContain('paid')
  })

  it('reports a cacheDir in node_modules together with schema problems', () => {
    const err = invalid({ cacheDir: 'node_modules/.vidspec', concurrency: 0 })
    expect(err.issues.map((i) => i.path)).toEqual(['concurrency', 'cacheDir'])
  })

  it('rejects a cacheDir that is the project itself or contains it', () => {
    expect(invalid({ cacheDir: '.' }).issues[0]?.path).toBe('cacheDir')
    expect(invalid({ cacheDir: '..' }).issues[0]?.path).toBe('cacheDir')
  })

  it('rejects ceilings below their floors, but raises an unset ceiling', () => {
    expect(invalid({ retry: { minDelayMs: 2000, maxDelayMs: 1000 } }).message).toContain('retry.maxDelayMs: at least retry.minDelayMs (2000) (got 1000)')
    expect(invalid({ together: { pollIntervalMs: 5000, maxPollIntervalMs: 10 } }).issues[0]?.path).toBe('together.maxPollIntervalMs')
    expect(resolveConfig({ together: { pollIntervalMs: 20_000 } }, { root, env: {} }).jobs.maxPollIntervalMs).toBe(20_000)
  })

  it('rejects bad overrides, saying they came from options rather than the file', () => {
    const err = invalid({}, { overrides: { concurrency: -3 } })
    expect(err.message).toContain('options passed on the command line or to the Vite plugin')
    expect(err.message).toContain('concurrency: an integer from 1 to 64 (got -3)')
  })
})
