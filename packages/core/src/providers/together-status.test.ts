import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveConfig } from '../config/resolve.js'
import type { Logger } from '../logger.js'
import { Vidspec } from '../project.js'
import { createProvider } from './create.js'
import { togetherProvider } from './together.js'
import type { RemoteProvider } from './types.js'

// Failure reasons and unknown statuses reach the user (issue 14, item 5).

const KEY = 'tg-test-0123456789abcdef'
let server: Server
let baseURL: string
/** What GET /videos/<id> answers, by id. */
const jobs = new Map<string, unknown>()

beforeAll(async () => {
  server = createServer((req, res) => {
    const id = decodeURIComponent(req.url?.split('/').pop() ?? '')
    const job = jobs.get(id)
    res.writeHead(job === undefined ? 404 : 200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(job ?? { error: { message: 'Video ID not found.' } }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseURL = `http://127.0.0.1:${(server.address() as { port: number }).port}/v2`
})
afterAll(() => new Promise((resolve) => server.close(resolve)))

function recorder(): Logger & { warnings: string[] } {
  const warnings: string[] = []
  return { warnings, debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} }
}
const provider = (logger?: Logger): RemoteProvider => togetherProvider({ apiKey: KEY, baseURL, logger })

describe('failure reasons', () => {
  it('reads error { message, code }', async () => {
    jobs.set('e1', { id: 'e1', status: 'failed', error: { message: 'Unsupported use of negativePrompt', code: 'unsupportedParameter' } })
    expect((await provider().poll('e1', {})).error).toEqual({ message: 'Unsupported use of negativePrompt', code: 'unsupportedParameter' })
  })

  it.each([
    ['a list of objects', [{ message: 'NSFW content detected', code: 'content_policy' }, { message: 'retry later' }], { message: 'NSFW content detected; retry later', code: 'content_policy' }],
    ['a list of strings', ['frame image could not be fetched'], { message: 'frame image could not be fetched', code: undefined }],
    ['one string', 'model overloaded', { message: 'model overloaded' }],
    ['one object', { message: 'bad keyframe', code: 'invalid_image' }, { message: 'bad keyframe', code: 'invalid_image' }],
    ['something else', [{ detail: 'odd shape' }], { message: '{"detail":"odd shape"}' }],
  ])('reads info.errors as %s', async (_what, errors, expected) => {
    jobs.set('e2', { id: 'e2', status: 'failed', info: { user_id: 'u', errors } })
    const job = await provider().poll('e2', {})
    expect(job.status).toBe('failed')
    expect(job.error).toEqual(expected)
  })

  it('info.errors: null is no reason, and never the key', async () => {
    jobs.set('e3', { id: 'e3', status: 'failed', info: { errors: null } })
    expect((await provider().poll('e3', {})).error).toBeUndefined()
    jobs.set('e4', { id: 'e4', status: 'failed', info: { errors: [`bad key ${KEY}`] } })
    expect((await provider().poll('e4', {})).error?.message).not.toContain(KEY)
  })
})

describe('unknown statuses', () => {
  it('warn once per status through the logger, and are judged by content', async () => {
    const logger = recorder()
    const p = provider(logger)
    jobs.set('u1', { id: 'u1', status: 'paused' })
    expect((await p.poll('u1', {})).status).toBe('in_progress')
    expect((await p.poll('u1', {})).status).toBe('in_progress')
    jobs.set('u2', { id: 'u2', status: 'succeeded', outputs: { video_url: 'https://x/v.mp4', cost: 0.2 } })
    expect((await p.poll('u2', {})).status).toBe('completed')
    expect(logger.warnings).toEqual([
      'Together reported an unknown job status "paused"; judging the job by its content',
      'Together reported an unknown job status "succeeded"; judging the job by its content',
    ])
  })

  it('createProvider hands the project logger to Together', async () => {
    const logger = recorder()
    const config = resolveConfig({ provider: 'together', together: { baseURL } }, { root: '/tmp', env: {} })
    const p = createProvider(config, { TOGETHER_API_KEY: KEY }, logger)
    jobs.set('u3', { id: 'u3', status: 'on_hold' })
    expect(p.kind === 'remote' && (await p.poll('u3', {})).status).toBe('in_progress')
    expect(logger.warnings).toEqual(['Together reported an unknown job status "on_hold"; judging the job by its content'])
  })

  it('a project opened with a logger passes it on (the CLI and the Vite plugin open projects this way)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'vidspec-status-'))
    try {
      const logger = recorder()
      const project = await Vidspec.open({
        root,
        env: { TOGETHER_API_KEY: KEY },
        overrides: { provider: 'together', together: { baseURL } },
        logger,
      })
      jobs.set('u4', { id: 'u4', status: 'waiting_for_gpu' })
      const p = project.provider
      expect(p.kind === 'remote' && (await p.poll('u4', {})).status).toBe('in_progress')
      expect(logger.warnings).toContain('Together reported an unknown job status "waiting_for_gpu"; judging the job by its content')
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})
