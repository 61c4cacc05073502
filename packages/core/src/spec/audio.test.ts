import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runFfmpeg } from '../media/run.js'
import type { NormalizedRequest } from '../types.js'
import { AUDIO_ALLOWED } from './audio.js'
import { resolveMedia } from './media.js'
import { silentWav as wav } from '../media/test-helpers.js'

// Issue 14: audio_inputs are WAV or MP3, 3-30 s, at most 15 MB (Together's parameter page), checked
// before any money is spent, for local files, data: URIs and, by extension, URLs.

let dir: string
let spec: string

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidspec-audio-test-'))
  spec = path.join(dir, 'clip.video.ts')
  await mkdir(dir, { recursive: true })
  await writeFile(spec, 'export default {}')
  await writeFile(path.join(dir, 'one.wav'), wav(1))
  await writeFile(path.join(dir, 'five.wav'), wav(5))
  await writeFile(path.join(dir, 'forty.wav'), wav(40))
  await writeFile(path.join(dir, 'three.wav'), wav(3))
  await writeFile(path.join(dir, 'thirty.wav'), wav(30))
  await writeFile(path.join(dir, 'text.wav'), 'not audio at all, just words\n'.repeat(20))
  await runFfmpeg(['-v', 'error', '-f', 'lavfi', '-i', 'anullsrc=r=22050:cl=mono', '-t', '4', '-c:a', 'libmp3lame', '-b:a', '32k', path.join(dir, 'four.mp3')])
  await runFfmpeg(['-v', 'error', '-f', 'lavfi', '-i', 'anullsrc=r=22050:cl=mono', '-t', '31', '-c:a', 'libmp3lame', '-b:a', '32k', path.join(dir, 'long.mp3')])
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const request = (audio_inputs: Array<string | { audio: string }>): NormalizedRequest => ({
  model: 'Wan-AI/wan2.7-t2v',
  prompt: 'p',
  media: { audio_inputs },
})
const resolve = (inputs: Array<string | { audio: string }>) => resolveMedia(request(inputs), spec)

describe('local audio files, probed', () => {
  it.each(['three.wav', 'five.wav', 'thirty.wav', 'four.mp3'])('%s fits and resolves by content', async (file) => {
    const { media, issues } = await resolve([file])
    expect(issues).toEqual([])
    expect(media.get(file)?.kind).toBe('file')
  })

  it.each([
    ['one.wav', 'WAV is 1.0 s'],
    ['forty.wav', 'WAV is 40.0 s'],
    ['long.mp3', 'MP3 is 31'],
  ])('%s is refused, naming field, value, length and what is allowed', async (file, heard) => {
    const { media, issues } = await resolve([{ audio: file }])
    expect(media.has(file)).toBe(false)
    expect(issues).toHaveLength(1)
    expect(issues[0]?.path).toBe('media.audio_inputs[0].audio')
    expect(issues[0]?.value).toBe(JSON.stringify(file))
    expect(issues[0]?.message).toMatch(new RegExp(`^${AUDIO_ALLOWED} \\(this ${heard.replace('.', '\\.')}`))
  })

  it('a .wav that is not audio is refused by its bytes', async () => {
    const { issues } = await resolve(['text.wav'])
    expect(issues.map((i) => i.message)).toEqual([expect.stringMatching(/^a WAV or MP3 file of 3 to 30 seconds and at most 15 MB; /)])
  })
})

describe('data: URIs, probed', () => {
  it('takes a 5 s WAV and refuses a 1 s one', async () => {
    const ok = `data:audio/wav;base64,${wav(5).toString('base64')}`
    const short = `data:audio/wav;base64,${wav(1).toString('base64')}`
    const { media, issues } = await resolve([ok, short])
    expect(media.get(ok)?.kind).toBe('data')
    expect(issues.map((i) => [i.path, i.message])).toEqual([['media.audio_inputs[1]', `${AUDIO_ALLOWED} (this WAV is 1.0 s)`]])
  })
})

describe('audio URLs, by extension', () => {
  it.each(['https://cdn.example.com/a.ogg', 'https://cdn.example.com/a.M4A?sig=1', 'https://cdn.example.com/voice.flac'])('%s is refused', async (url) => {
    const { issues } = await resolve([url])
    expect(issues).toEqual([
      { path: 'media.audio_inputs[0]', value: JSON.stringify(url), message: expect.stringMatching(/^a WAV or MP3 file of 3 to 30 seconds and at most 15 MB; a \.(ogg|m4a|flac) URL is neither/) },
    ])
  })

  it.each(['https://cdn.example.com/a.mp3', 'https://cdn.example.com/a.WAV', 'https://cdn.example.com/audio?id=3'])('%s is sent as written', async (url) => {
    const { media, issues } = await resolve([url])
    expect(issues).toEqual([])
    expect(media.get(url)?.kind).toBe('url')
  })
})
