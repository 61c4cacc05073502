import { createHash } from 'node:crypto'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { ResolvedRemote } from '../../packages/core/src/remote/config.js'
import { mediaUrlTtlSeconds, s3MediaHost, type HostedFile } from '../../packages/core/src/remote/media.js'
import { tempProject, type TempProject } from '../helpers/project.js'
import { startTestS3, type TestS3 } from '../helpers/s3.js'

// The media host against a real S3 protocol server: content-addressed under the prefix, one upload
// however many ask, never bytes that differ from the key's, nothing written in read-only mode.

let s3: TestS3
let dir: TempProject
const bytes = Buffer.from('a local clip, pretend MP4 bytes '.repeat(64))
const sha = createHash('sha256').update(bytes).digest('hex')
const saved: Record<string, string | undefined> = {}

beforeAll(async () => {
  dir = await tempProject({ 'clip.mp4': bytes })
})
afterAll(() => dir.dispose())
beforeEach(async () => {
  s3 = await startTestS3()
  for (const [k, v] of Object.entries(s3.env)) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
})
afterEach(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  await s3.close()
})

const remote = (mode: ResolvedRemote['mode']): ResolvedRemote => ({
  mode,
  s3: { bucket: s3.bucket, prefix: 'team/site', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true },
})
const file = (over: Partial<HostedFile> = {}): HostedFile => ({
  path: dir.path('clip.mp4'),
  sha256: sha,
  size: bytes.length,
  mime: 'video/mp4',
  spec: 'scene.video.ts',
  field: 'media.source_video',
  ...over,
})
const puts = () => s3.requests.filter((r) => r.method === 'PUT')

describe('s3MediaHost', () => {
  it('uploads once under <prefix>/media/<sha256>.<ext>, however many ask at once, and signs a working GET', async () => {
    const host = s3MediaHost(remote('read-write'), { urlTtlSeconds: mediaUrlTtlSeconds(30 * 60_000) })
    const urls = await Promise.all([host.urlFor(file()), host.urlFor(file()), host.urlFor(file({ field: 'media.frame_videos[0].video' }))])
    expect(puts().map((r) => r.key)).toEqual([`team/site/media/${sha}.mp4`])
    expect(await s3.keys()).toEqual([`team/site/media/${sha}.mp4`])
    for (const url of urls) {
      expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('3600')
      expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(bytes)).toBe(true)
    }
    // A new process finds it there and uploads nothing.
    await s3MediaHost(remote('read-write'), { urlTtlSeconds: 3600 }).urlFor(file())
    expect(puts()).toHaveLength(1)
  })

  it('never stores bytes that differ from the hash the key was computed from', async () => {
    const host = s3MediaHost(remote('read-write'), { urlTtlSeconds: 3600 })
    await expect(host.urlFor(file({ sha256: 'f'.repeat(64) }))).rejects.toMatchObject({
      code: 'SPEC_LOAD_FAILED',
      message: expect.stringMatching(/changed after the cache key was computed/),
    })
    expect(puts()).toEqual([])
  })

  it('replaces a truncated object under the name; read-only refuses it and writes nothing', async () => {
    await s3.put(`team/site/media/${sha}.mp4`, bytes.subarray(0, 10))
    await expect(s3MediaHost(remote('read-only'), { urlTtlSeconds: 3600 }).urlFor(file())).rejects.toMatchObject({
      code: 'SPEC_INVALID',
      message: expect.stringMatching(/holds 10 bytes, not this file's 2048.*read-only remote never uploads/),
    })
    expect(puts()).toEqual([])
    const url = await s3MediaHost(remote('read-write'), { urlTtlSeconds: 3600 }).urlFor(file())
    expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(bytes)).toBe(true)
  })

  it('read-only reuses what a trusted build uploaded, and refuses (uploading nothing) what is missing', async () => {
    const ro = s3MediaHost(remote('read-only'), { urlTtlSeconds: 3600 })
    await expect(ro.urlFor(file())).rejects.toMatchObject({ code: 'SPEC_INVALID', message: expect.stringMatching(/does not exist/) })
    expect(puts()).toEqual([])
    await s3MediaHost(remote('read-write'), { urlTtlSeconds: 3600 }).urlFor(file())
    const url = await ro.urlFor(file())
    expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(bytes)).toBe(true)
    expect(puts()).toHaveLength(1)
  })

  it('a remote that is down fails before anything reaches Together, saying so', async () => {
    const host = s3MediaHost(remote('read-write'), { urlTtlSeconds: 3600 })
    await s3.goDown()
    const err = await host.urlFor(file()).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', message: expect.stringMatching(/Nothing was sent to Together\.$/) })
  })
})
