import { writeFile } from 'node:fs/promises'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RemoteCache, S3Bucket, Store, silentLogger, type Entry, type Logger } from '@vidspec/core'
import { tempProject, type TempProject } from '../helpers/project.js'
import { startTestS3, type TestS3 } from '../helpers/s3.js'

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

function machine(name: string, opts: { jobTimeoutMs?: number; logger?: Logger } = {}): { cache: RemoteCache; store: Store } {
  const store = new Store(dir.path(name, '.vidspec'))
  const cache = new RemoteCache({
    remote: { mode: 'read-write', s3: { bucket: s3.bucket, prefix: 'team', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true } },
    store,
    logger: opts.logger ?? silentLogger,
    jobTimeoutMs: opts.jobTimeoutMs ?? 30_000,
    poll: { intervalMs: 20, maxIntervalMs: 50 },
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

  it('a claim older than the job timeout is taken over, with a warning', async () => {
    const warnings: string[] = []
    const b = machine('b', { jobTimeoutMs: 1_000, logger: { ...silentLogger, warn: (m) => warnings.push(m) } })
    const stale = { version: 1, key: KEY, spec: 'clip.video.ts', owner: 'dead-runner:1:ab', at: new Date(Date.now() - 3_600_000).toISOString() }
    await s3.put(`team/claims/${KEY}.json`, JSON.stringify(stale))
    expect((await b.cache.claim(KEY, 'clip.video.ts')).kind).toBe('owned')
    expect(warnings.join('\n')).toMatch(/took over a stale remote claim \(held by dead-runner/)
    expect(JSON.parse(await s3.getText(`team/claims/${KEY}.json`))).not.toMatchObject({ owner: 'dead-runner:1:ab' })
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
