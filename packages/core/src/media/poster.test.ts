import { createHash } from 'node:crypto'
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ffprobePath } from './binaries.js'
import { extractPoster } from './poster.js'
import { runFfmpeg, runTool } from './run.js'

let dir: string
let video: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vidspec-poster-'))
  video = join(dir, 'clip.mp4')
  await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=176x98:r=24:d=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-y', video])
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Decodes the whole image (not just its header) and reports what ffprobe saw. */
async function image(file: string): Promise<{ codec: string; width: number; height: number }> {
  const { stdout } = await runTool(
    ffprobePath(),
    ['-v', 'error', '-count_frames', '-print_format', 'json', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', file],
    { stdout: true },
  )
  const s = (JSON.parse(stdout) as { streams: Array<{ codec_name: string; width: number; height: number; nb_read_frames: string }> }).streams[0]
  expect(s?.nb_read_frames).toBe('1')
  return { codec: s?.codec_name ?? '', width: s?.width ?? 0, height: s?.height ?? 0 }
}

describe('extractPoster', () => {
  it('writes a decodable JPEG of the first frame at the clip size, the same bytes every time', async () => {
    const out = join(dir, 'poster.jpg')
    await extractPoster(video, out)
    const bytes = await readFile(out)
    expect([...bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff])
    expect(await image(out)).toEqual({ codec: 'mjpeg', width: 176, height: 98 })
    await extractPoster(video, out)
    const again = await readFile(out)
    expect(createHash('sha256').update(again).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'))
  })

  it('follows the extension for PNG and WebP and can take a later frame', async () => {
    await extractPoster(video, join(dir, 'first.png'))
    await extractPoster(video, join(dir, 'later.png'), { at: 0.5 })
    expect(await image(join(dir, 'later.png'))).toEqual({ codec: 'png', width: 176, height: 98 })
    expect(await readFile(join(dir, 'later.png'))).not.toEqual(await readFile(join(dir, 'first.png')))
    await extractPoster(video, join(dir, 'poster.webp'))
    expect(await image(join(dir, 'poster.webp'))).toEqual({ codec: 'webp', width: 176, height: 98 })
  })

  it('writes a name with a % sign literally', async () => {
    await extractPoster(video, join(dir, '100%d.jpg'))
    // ffprobe would read the name as a pattern too, so look at a copy.
    await copyFile(join(dir, '100%d.jpg'), join(dir, 'percent-copy.jpg'))
    expect(await image(join(dir, 'percent-copy.jpg'))).toMatchObject({ codec: 'mjpeg', width: 176 })
  })

  it('rejects an unknown image type and leaves no temp file when ffmpeg fails', async () => {
    await expect(extractPoster(video, join(dir, 'poster.gif'))).rejects.toMatchObject({ code: 'INTERNAL' })
    const before = await readdir(dir)
    await expect(extractPoster(join(dir, 'missing.mp4'), join(dir, 'bad.jpg'))).rejects.toMatchObject({ code: 'INTERNAL' })
    expect(await readdir(dir)).toEqual(before)
  })
})
