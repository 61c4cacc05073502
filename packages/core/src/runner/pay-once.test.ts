import { describe, expect, it } from 'vitest'
import { VidspecError, isVidspecError } from '../errors.js'
import type { CreateContext, JobState, ProviderRequest, RemoteProvider } from '../providers/types.js'
import { KEY_A, tempStore } from '../store/test-helpers.js'
import type { Store } from '../store/index.js'
import { createOnce } from './pay-once.js'

// The bookkeeping around one create, with a scripted provider: what is on disk when each answer
// arrives, and what is left afterwards.

const req: ProviderRequest = { key: KEY_A, request: { model: 'm', prompt: 'p' }, media: new Map(), spec: 'a.video.ts' }
type Answer = JobState | VidspecError | Error

/** A provider answering `answers` in turn; it records what the journal held when each request "left". */
function scripted(store: Store, answers: Answer[]) {
  const seen: Array<string | undefined> = []
  const provider: RemoteProvider = {
    kind: 'remote',
    id: 'together',
    preview: false,
    origin: { baseURL: 'http://fake/v2', account: 'key sha256:00000000' },
    async create(_req, ctx: CreateContext) {
      await ctx.beforeSend?.()
      const journal = await store.readJournal(KEY_A)
      seen.push(journal ? (journal.jobId ?? 'intent') : undefined)
      const next = answers.shift()
      if (!next) throw new Error('no more answers')
      if (next instanceof Error) throw next
      return next
    },
    poll: () => Promise.reject(new Error('not used')),
  }
  return { provider, seen }
}

async function run(store: Store, provider: RemoteProvider, opts: { held?: boolean; signal?: AbortSignal } = {}) {
  const lock = await store.lock(KEY_A)
  const held = opts.held ?? true
  const fakeLock = { key: KEY_A, held, release: () => lock.release(), verify: async () => held }
  try {
    return await createOnce(provider, req, { lock: fakeLock, signal: opts.signal }, {
      store,
      retry: { retries: 3, minDelayMs: 1, maxDelayMs: 2 },
      retryUncertain: false,
      onRetry() {},
      onCreated() {},
    })
  } finally {
    await lock.release()
  }
}

const refused = () => new VidspecError('PROVIDER_RATE_LIMITED', 'slow down', { retryable: true, retryAfterMs: 1 })
const uncertain = () => new VidspecError('PROVIDER_CREATE_UNCERTAIN', 'gateway said 502 after the body was sent')

describe('createOnce', () => {
  it('every request leaves with the intent already on disk; the job id replaces it', async () => {
    const store = await tempStore()
    const { provider, seen } = scripted(store, [refused(), refused(), { id: 'job-1', status: 'queued' }])
    const { journal } = await run(store, provider)
    expect(seen).toEqual(['intent', 'intent', 'intent'])
    expect(journal).toMatchObject({ jobId: 'job-1', origin: provider.origin })
    expect(await store.readJournal(KEY_A)).toEqual(journal)
    expect(await store.listUncertain()).toEqual([])
  })

  it('refusals, then an uncertain answer: one marker, no intent, and the next create is refused without a request', async () => {
    const store = await tempStore()
    const { provider, seen } = scripted(store, [refused(), uncertain()])
    const err = await run(store, provider).catch((e: unknown) => e)
    expect(isVidspecError(err, 'PROVIDER_CREATE_UNCERTAIN')).toBe(true)
    expect(seen).toHaveLength(2)
    expect(await store.readJournal(KEY_A)).toBeUndefined()
    expect(await store.readUncertain(KEY_A)).toMatchObject({ reason: expect.stringMatching(/502/) })
    const again = await run(store, provider).catch((e: unknown) => e)
    expect(isVidspecError(again, 'PROVIDER_CREATE_UNCERTAIN')).toBe(true)
    expect(seen).toHaveLength(2)
  })

  it('an error that is not a classified refusal, after sending, is uncertain too', async () => {
    const store = await tempStore()
    const { provider } = scripted(store, [new TypeError('socket hang up')])
    await run(store, provider).catch(() => {})
    expect(await store.readUncertain(KEY_A)).toBeDefined()
  })

  it('a refusal that is final (400) removes the intent: no job, nothing uncertain', async () => {
    const store = await tempStore()
    const { provider } = scripted(store, [new VidspecError('PROVIDER_BAD_REQUEST', 'steps out of range')])
    const err = await run(store, provider).catch((e: unknown) => e)
    expect(isVidspecError(err, 'PROVIDER_BAD_REQUEST')).toBe(true)
    expect(await store.readJournal(KEY_A)).toBeUndefined()
    expect(await store.readUncertain(KEY_A)).toBeUndefined()
  })

  it('a lost lock stops the create before anything is written or sent', async () => {
    const store = await tempStore()
    const { provider, seen } = scripted(store, [{ id: 'job-1', status: 'queued' }])
    const err = await run(store, provider, { held: false }).catch((e: unknown) => e)
    expect(isVidspecError(err, 'LOCK_LOST')).toBe(true)
    expect(seen).toEqual([])
    expect(await store.listJournals()).toEqual([])
  })

  it('an abort while an uncertain create is answered still records it as uncertain', async () => {
    const store = await tempStore()
    const ac = new AbortController()
    const { provider } = scripted(store, [])
    provider.create = async (_req, ctx) => {
      await ctx.beforeSend?.()
      ac.abort(new VidspecError('ABORTED', 'Ctrl-C'))
      throw uncertain()
    }
    const err = await run(store, provider, { signal: ac.signal }).catch((e: unknown) => e)
    expect(isVidspecError(err, 'ABORTED')).toBe(true)
    expect(await store.readUncertain(KEY_A)).toBeDefined()
  })

  it('an intent a stopped run left becomes an uncertain marker, and no request is made', async () => {
    const store = await tempStore()
    await store.writeJournal({ version: 1, key: KEY_A, provider: 'together', spec: 'a.video.ts', createdAt: '2026-01-01T00:00:00Z' })
    const { provider, seen } = scripted(store, [{ id: 'job-1', status: 'queued' }])
    const err = await run(store, provider).catch((e: unknown) => e)
    expect(isVidspecError(err, 'PROVIDER_CREATE_UNCERTAIN')).toBe(true)
    expect(seen).toEqual([])
    expect(await store.readJournal(KEY_A)).toBeUndefined()
    expect(await store.readUncertain(KEY_A)).toMatchObject({ at: '2026-01-01T00:00:00Z' })
  })
})
