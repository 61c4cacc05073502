import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runFfmpeg } from '../../packages/core/src/media/run.js'
import { TINY_CLIP } from '../fake-together/clips.js'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { runCli, tempProject, type CliResult, type TempProject } from '../helpers/project.js'
import { startTestS3, type TestS3 } from '../helpers/s3.js'
import { FAST } from '../helpers/together.js'
import { silentWav as wav } from '../../packages/core/src/media/test-helpers.js'

// Issue 14, item 3: local video and audio reach Together through the S3 remote: uploaded once under
// media/<sha256>.<ext>, sent as a presigned GET URL, never part of the key; read-only never uploads.

const API_KEY = 'tg-remote-media-8a1d0c7e5b3f2946'
let fake: FakeTogether
let s3: TestS3
let clip: Buffer
let voice: Buffer
const projects: TempProject[] = []

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

beforeAll(async () => {
  // The specs ask for 2 s: a shorter clip is not a whole clip, and would be downloaded again forever.
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 60, clip: { ...TINY_CLIP, seconds: 2 } })
  const scratch = await tempProject()
  projects.push(scratch)
  await runFfmpeg(['-v', 'error', '-f', 'lavfi', '-i', 'color=c=blue:s=64x36:r=10', '-t', '1', '-pix_fmt', 'yuv420p', scratch.path('clip.mp4')])
  clip = await readFile(scratch.path('clip.mp4'))
  voice = wav(4)
})
afterAll(async () => {
  await fake?.close()
  await Promise.all(projects.splice(0).map((p) => p.dispose()))
})
beforeEach(async () => {
  s3 = await startTestS3()
})
afterEach(async () => {
  await s3?.close()
  fake.reset()
})

const spec = (prompt: string) =>
  "import { defineVideo } from '@vidspec/core'\n" +
  `export default defineVideo({ model: 'Wan-AI/wan2.7-i2v', prompt: ${JSON.stringify(prompt)}, resolution: '720P', ratio: '16:9', seconds: 2,\n` +
  "  media: { frame_videos: [{ video: './media/clip.mp4' }], audio_inputs: ['./media/voice.wav'] } })\n"

async function project(remote: boolean, prompts = ['a dancer on a stage']): Promise<TempProject> {
  const config = remote ? { ...FAST, remote: { s3: { bucket: s3.bucket, endpoint: s3.endpoint, forcePathStyle: true } } } : FAST
  const files: Record<string, string | Buffer> = {
    'vidspec.config.ts': `export default ${JSON.stringify(config, null, 2)}\n`,
    'media/clip.mp4': clip,
    'media/voice.wav': voice,
  }
  prompts.forEach((p, i) => (files[`scene-${i}.video.ts`] = spec(p)))
  const p = await tempProject(files)
  projects.push(p)
  return p
}

function cli(p: TempProject, args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runCli(args, { cwd: p.root, env: { TOGETHER_API_KEY: API_KEY, TOGETHER_BASE_URL: fake.baseURL, CI: undefined, ...s3.env, ...env } })
}
const keysOf = (r: CliResult) => (JSON.parse(r.stdout) as { specs: Array<{ key: string }> }).specs.map((s) => s.key)
const mediaPuts = () => s3.requests.filter((r) => r.method === 'PUT' && r.key.startsWith('media/'))

describe('local video and audio through an S3 remote', () => {
  it('are uploaded once by content and sent as presigned URLs that serve the bytes; the key ignores the URL', async () => {
    const a = await project(true, ['a dancer on a stage', 'a dancer in the rain'])
    const planned = keysOf(await cli(a, ['plan', '--json']))
    const built = await cli(a, ['build', '--json'])
    expect(built.code, built.stderr).toBe(0)
    expect(keysOf(built)).toEqual(planned)
    expect(fake.creates).toBe(2)

    const videoKey = `media/${sha(clip)}.mp4`
    const audioKey = `media/${sha(voice)}.wav`
    expect((await s3.keys()).filter((k) => k.startsWith('media/')).sort()).toEqual([videoKey, audioKey].sort())
    // Two specs share both files: one upload each.
    expect(mediaPuts().map((r) => r.key).sort()).toEqual([videoKey, audioKey].sort())

    for (const job of fake.jobs) {
      const media = job.body.media as { frame_videos: Array<{ video: string }>; audio_inputs: string[] }
      const video = new URL(media.frame_videos[0]?.video ?? '')
      expect(video.origin).toBe(new URL(s3.endpoint).origin)
      expect(video.pathname).toBe(`/${s3.bucket}/${videoKey}`)
      expect(video.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/)
      // Twice the default job timeout (30 min): it outlives the job.
      expect(Number(video.searchParams.get('X-Amz-Expires'))).toBeGreaterThanOrEqual(3600)
      expect(Buffer.from(await (await fetch(video)).arrayBuffer()).equals(clip)).toBe(true)
      const audio = await fetch(media.audio_inputs[0] ?? '')
      expect(Buffer.from(await audio.arrayBuffer()).equals(voice)).toBe(true)
      expect(JSON.stringify(job.body)).not.toContain('./media/')
    }

    // Another machine: same content, its own empty store. The remote serves the clips; nothing is
    // uploaded or created again, and the keys are the ones computed before any URL existed.
    const b = await project(true, ['a dancer on a stage', 'a dancer in the rain'])
    const again = await cli(b, ['build', '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(keysOf(again)).toEqual(planned)
    expect(fake.creates).toBe(2)
    expect(mediaPuts()).toHaveLength(2)

    // A new spec with the same media pays once and finds the media already uploaded.
    const c = await project(true, ['a dancer at dawn'])
    const third = await cli(c, ['build', '--json'])
    expect(third.code, third.stderr).toBe(0)
    expect(fake.creates).toBe(3)
    expect(mediaPuts()).toHaveLength(2)
  })

  it('read-only mode uploads nothing and refuses before any create', async () => {
    const p = await project(true)
    const r = await cli(p, ['build', '--json'], { VIDSPEC_REMOTE_MODE: 'read-only' })
    expect(r.code).not.toBe(0)
    expect(r.stderr + r.stdout).toMatch(/read-only remote never uploads/)
    expect(r.stderr + r.stdout).toContain('media.frame_videos[0].video')
    expect(fake.creates).toBe(0)
    expect(mediaPuts()).toEqual([])
    expect((await s3.keys()).filter((k) => k.startsWith('media/'))).toEqual([])
    // Nothing was left uncertain: a trusted read-write build then uploads and pays once.
    const trusted = await cli(p, ['build', '--json'])
    expect(trusted.code, trusted.stderr).toBe(0)
    expect(fake.creates).toBe(1)
    expect(mediaPuts()).toHaveLength(2)
  })

  it('without a remote, local video and audio are refused before any request, naming the remote option', async () => {
    const p = await project(false)
    const r = await cli(p, ['build', '--json'])
    expect(r.code).toBe(2)
    const out = r.stderr + r.stdout
    expect(out).toContain('scene-0.video.ts')
    expect(out).toMatch(/media\.frame_videos\[0\]\.video: a local video file reaches Together only as a URL: set `remote` in the vidspec config/)
    expect(out).toMatch(/media\.audio_inputs\[0\]: a local audio file reaches Together only as a URL/)
    expect(fake.creates).toBe(0)
    expect(s3.requests).toEqual([])
  })

  it('audio out of the documented range costs nothing: 1 s and 40 s files and an .ogg URL fail the build before any request', async () => {
    const p = await project(true)
    await p.write('media/short.wav', wav(1))
    await p.write('media/long.wav', wav(40))
    await p.write(
      'scene-0.video.ts',
      "import { defineVideo } from '@vidspec/core'\n" +
        "export default defineVideo({ model: 'ByteDance/Seedance-2.0', prompt: 'a choir', resolution: '720p', seconds: 5,\n" +
        "  media: { audio_inputs: ['./media/short.wav', { audio: './media/long.wav' }, 'https://cdn.example.com/choir.ogg'] } })\n",
    )
    const r = await cli(p, ['build', '--json'])
    expect(r.code).toBe(2)
    const out = r.stderr + r.stdout
    expect(out).toContain('scene-0.video.ts')
    expect(out).toMatch(/media\.audio_inputs\[0\]: a WAV or MP3 file of 3 to 30 seconds and at most 15 MB \(this WAV is 1\.0 s\) \(got "\.\/media\/short\.wav"\)/)
    expect(out).toMatch(/media\.audio_inputs\[1\]\.audio: .*this WAV is 40\.0 s/)
    expect(out).toMatch(/media\.audio_inputs\[2\]: .*a \.ogg URL is neither/)
    expect(fake.creates).toBe(0)
    expect(mediaPuts()).toEqual([])
  })
})
