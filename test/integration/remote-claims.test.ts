import { request } from 'node:http'
import { writeFile } from 'node:fs/promises'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { isVidspecError, silentLogger, type Entry, type Logger } from '@vidspec/core'
import { RemoteCache, S3Bucket, Store } from '@vidspec/core/internal'
import { tempProject, type TempProject } from '../helpers/project.js'
import { startTestS3, type TestS3 } from '../helpers/s3.js'
import { until } from '../helpers/wait.js'

// The claim is the only thing that stops two machines paying for one key: a conditional write of
// claims/<key>.json. These tests drive RemoteCache directly against the S3 test server.

const KEY = 'k'.repeat(64)
let s3: TestS3
let dir: TempProject
const saved: Record<string, string | undefined> = {}
const caches: RemoteCache[] = []

beforeAll(async () => {
  dir = await tempProject()
})
afterAll(async () => {
  await dir?.dispose()
})
beforeEach(async () => {
  s3 = await startTestS3()
  for (const [k, v] of Object.entries(s3.env)) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
})
afterEach(async () => {
  for (const c of caches.splice(0)) c.close()
  await s3.close()
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
})

interface MachineOptions {
  jobTimeoutMs?: number
  logger?: Logger
  lease?: { heartbeatMs?: number; staleMs?: number; waitMs?: number }
}

function machine(name: string, opts: MachineOptions = {}): { cache: RemoteCache; store: Store } {
  const store = new Store(dir.path(name, '.vidspec'))
  const cache = new RemoteCache({
    remote: {
      mode: 'read-write',
      s3: { bucket: s3.bucket, prefix: 'team', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true },
      ...(opts.lease ? { lease: opts.lease } : {}),
    },
    store,
    logger: opts.logger ?? silentLogger,
    jobTimeoutMs: opts.jobTimeoutMs ?? 30_000,
    poll: { intervalMs: 20, maxIntervalMs: 50 },
    retry: { retries: 2, minDelayMs: 5, maxDelayMs: 20 },
  })
  caches.push(cache)
  return { cache, store }
}

async function commitClip(store: Store, bytes: string): Promise<Entry> {
  await store.init()
  const tmp = store.tempPath('mp4')
  await writeFile(tmp, bytes)
  return store.commit(tmp, {
    key: KEY,
    ext: 'mp4',
    mime: 'video/mp4',
    width: 160,
    height: 90,
    duration: 1,
    fps: 10,
    codec: 'h264',
    provider: 'together',
    preview: false,
    model: 'minimax/hailuo-02',
    createdAt: new Date().toISOString(),
    spec: 'clip.video.ts',
    request: { model: 'minimax/hailuo-02', prompt: 'p' } as Entry['request'],
  })
}

describe('remote claims', () => {
  it('the server behind the tests: s3rver alone overwrites on If-None-Match: *, the harness answers 412', async () => {
    const put = (Body: string) => s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'raw', Body, IfNoneMatch: '*' }))
    await put('one')
    await put('two')
    expect(await s3.getText('raw')).toBe('two')

    const bucket = new S3Bucket({ bucket: s3.bucket, prefix: '', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true })
    const won = await Promise.all(Array.from({ length: 6 }, (_, i) => bucket.putJson('race.json', { i }, { ifNoneMatch: true })))
    bucket.close()
    expect(won.filter(Boolean)).toHaveLength(1)
  })

  it('the server behind the tests keeps whole objects as S3 does: a cut upload stores nothing, a read racing writes sees one whole version', async () => {
    const bucket = new S3Bucket({ bucket: s3.bucket, prefix: '', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true })
    const version = (c: string) => ({ c, fill: c.repeat(600_000) })
    await bucket.putJson('whole.json', version('a'))

    // An upload whose client goes away halfway: S3 stores nothing of it.
    const { hostname, port } = new URL(s3.endpoint)
    const cut = request({ host: hostname, port, method: 'PUT', path: `/${s3.bucket}/whole.json`, headers: { 'content-length': '1000000' } })
    cut.on('error', () => {})
    await new Promise<void>((resolve) => cut.write('x'.repeat(500_000), () => resolve()))
    cut.destroy()
    await until('the proxy to see the cut upload end', () => s3.requests.filter((r) => r.method === 'PUT' && r.key === 'whole.json').length === 2, 10_000, 10)
    expect((JSON.parse(await s3.getText('whole.json')) as { c: string }).c).toBe('a')

    const reads = await Promise.all([
      ...['b', 'c', 'd', 'e'].map((c) => bucket.putJson('whole.json', version(c))),
      ...Array.from({ length: 12 }, () => bucket.getJson('whole.json')),
    ])
    bucket.close()
    const seen = reads.slice(4) as Array<Awaited<ReturnType<S3Bucket['getJson']>>>
    for (const r of seen) {
      expect(r?.parsed).toBe(true)
      const v = r?.value as { c: string; fill: string }
      expect(v.fill).toBe(v.c.repeat(600_000))
    }
  })

  it('the loser waits for the winner, then gets its clip (digest-checked) without paying', async () => {
    const a = machine('a')
    const b = machine('b')
    const first = await a.cache.claim(KEY, 'clip.video.ts')
    expect(first.kind).toBe('owned')
    expect(await s3.keys()).toEqual([`team/claims/${KEY}.json`])

    const waiting = b.cache.claim(KEY, 'clip.video.ts')
    await new Promise((r) => setTimeout(r, 150))
    const entry = await commitClip(a.store, 'the paid clip')
    await a.cache.writeBack(entry)
    if (first.kind === 'owned') await first.release()

    const second = await waiting
    expect(second.kind).toBe('made')
    expect(await b.store.getEntry(KEY)).toMatchObject({ digest: entry.digest, size: entry.size })
    expect((await s3.keys()).filter((k) => k.includes('claims/'))).toEqual([])
  })

  it('a released claim without a clip (the generation failed) lets the next machine claim it', async () => {
    const a = machine('a')
    const b = machine('b')
    const first = await a.cache.claim(KEY, 'clip.video.ts')
    const waiting = b.cache.claim(KEY, 'clip.video.ts')
    await new Promise((r) => setTimeout(r, 100))
    if (first.kind === 'owned') await first.release()
    expect((await waiting).kind).toBe('owned')
  })

  // The clock that judges a claim is the bucket's: Last-Modified (its last heartbeat) against the Date of the answer.
  const STALE = { heartbeatMs: 100, staleMs: 2_200, waitMs: 400 }
  const OLD = new Date(Date.now() - 3_600_000).toUTCString()
  const deadClaim = { version: 1, key: KEY, spec: 'clip.video.ts', owner: 'dead-runner:1:ab', at: new Date(Date.now() - 3_600_000).toISOString() }

  async function uncertainMessage(p: Promise<unknown>): Promise<string> {
    try {
      await p
    } catch (err) {
      if (isVidspecError(err, 'REMOTE_UNCERTAIN')) return err.message
      throw err
    }
    throw new Error('expected REMOTE_UNCERTAIN')
  }

  it('a claim whose own time says it is old but whose heartbeat is fresh by the bucket is not taken over; the waiter gives up without owning', async () => {
    const b = machine('b', { lease: STALE })
    await s3.put(`team/claims/${KEY}.json`, JSON.stringify(deadClaim))
    expect(await uncertainMessage(b.cache.claim(KEY, 'clip.video.ts'))).toMatch(/another machine still holds its claim/)
    expect(JSON.parse(await s3.getText(`team/claims/${KEY}.json`))).toMatchObject({ owner: 'dead-runner:1:ab' })
  })

  it('a claim whose heartbeat is old by the bucket\'s clock is taken over, with If-Match on that version, and a warning', async () => {
    const warnings: string[] = []
    const b = machine('b', { lease: STALE, logger: { ...silentLogger, warn: (m) => warnings.push(m) } })
    await s3.put(`team/claims/${KEY}.json`, JSON.stringify(deadClaim))
    s3.fault({ method: 'GET', key: 'claims/', kind: 'headers', set: { 'last-modified': OLD } })
    const got = await b.cache.claim(KEY, 'clip.video.ts')
    expect(got.kind).toBe('owned')
    expect(warnings.join('\n')).toMatch(/took over a stale remote claim \(held by dead-runner.*by the bucket's clock/)
    expect(JSON.parse(await s3.getText(`team/claims/${KEY}.json`))).not.toMatchObject({ owner: 'dead-runner:1:ab' })
    if (got.kind === 'owned') await got.release()
  })

  it('a stale claim whose owner died with a create in flight (intent, no job id) is not taken over: the key is uncertain', async () => {
    const b = machine('b', { lease: STALE })
    await s3.put(`team/claims/${KEY}.json`, JSON.stringify({ ...deadClaim, intent: true }))
    s3.fault({ method: 'GET', key: 'claims/', kind: 'headers', times: Infinity, set: { 'last-modified': OLD } })
    expect(await uncertainMessage(b.cache.claim(KEY, 'clip.video.ts'))).toMatch(/create may have been in flight/)
    expect(JSON.parse(await s3.getText(`team/claims/${KEY}.json`))).toMatchObject({ owner: 'dead-runner:1:ab', intent: true })
  })

  for (const [what, etag] of [
    ['a wrong ETag', '"0000000000000000000000000000dead"'],
    ['no ETag', null],
  ] as const) {
    it(`a stale claim whose reads answer ${what} is never taken over and the loop ends (uncertain, not owned)`, async () => {
      const b = machine('b', { lease: { ...STALE, waitMs: 60_000 } })
      await s3.put(`team/claims/${KEY}.json`, JSON.stringify(deadClaim))
      s3.fault({ key: 'claims/', kind: 'headers', times: Infinity, set: { 'last-modified': OLD, etag } })
      const started = Date.now()
      expect(await uncertainMessage(b.cache.claim(KEY, 'clip.video.ts'))).toMatch(/could not be taken over|no version/)
      expect(Date.now() - started).toBeLessThan(10_000)
      expect(JSON.parse(await s3.getText(`team/claims/${KEY}.json`))).toMatchObject({ owner: 'dead-runner:1:ab' })
      // Bounded: a handful of conditional takeovers at most.
      expect(s3.requests.filter((r) => r.method === 'PUT' && r.key.includes('claims/')).length).toBeLessThan(16)
    })
  }

  it('the owner heartbeats: its claim changes version while it works, and a waiter never judges it stale', async () => {
    const a = machine('a', { lease: { heartbeatMs: 50, staleMs: 2_100, waitMs: 60_000 } })
    const first = await a.cache.claim(KEY, 'clip.video.ts')
    expect(first.kind).toBe('owned')
    const beat = async () => (JSON.parse(await s3.getText(`team/claims/${KEY}.json`)) as { beat: number }).beat
    const before = await beat()
    await until('two heartbeats', async () => (await beat()) >= before + 2)
    if (first.kind === 'owned') await first.release()
    expect((await s3.keys()).filter((k) => k.includes('claims/'))).toEqual([])
  })

  it('the machine that loses the entry race removes the object it uploaded: no orphan in the bucket', async () => {
    const a = machine('a')
    const b = machine('b')
    const ea = await commitClip(a.store, 'clip made on a')
    const eb = await commitClip(b.store, 'clip made on b')
    expect(await a.cache.upload(ea)).toBe('written')
    expect(await b.cache.upload(eb)).toBe('kept')
    expect(await s3.keys()).toEqual([`team/entries/${KEY}.json`, `team/objects/${ea.digest}.mp4`].sort())
    expect(JSON.parse(await s3.getText(`team/entries/${KEY}.json`))).toMatchObject({ digest: ea.digest })
  })

  it('read-only never claims', async () => {
    const store = new Store(dir.path('ro', '.vidspec'))
    const ro = new RemoteCache({
      remote: { mode: 'read-only', s3: { bucket: s3.bucket, prefix: '', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true } },
      store,
      logger: silentLogger,
      jobTimeoutMs: 1_000,
      poll: { intervalMs: 20, maxIntervalMs: 50 },
    })
    caches.push(ro)
    expect((await ro.claim(KEY, 'clip.video.ts')).kind).toBe('none')
    expect(s3.requests).toEqual([])
  })
})
