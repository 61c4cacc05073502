import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isVidspecError } from '../errors.js'
import { ffmpegPath, ffprobePath, runFfmpeg, runTool } from './ffmpeg.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vidspec-ffmpeg-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Live processes whose command line mentions `needle` (a zombie has an empty one, so it counts as gone). */
async function processesMentioning(needle: string): Promise<number[]> {
  const pids: number[] = []
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')
    if (cmdline.includes(needle)) pids.push(Number(name))
  }
  return pids
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

describe('binary paths', () => {
  it('uses the installer packages by default and the env override when set', async () => {
    expect((await stat(ffmpegPath({}))).isFile()).toBe(true)
    expect((await stat(ffprobePath({}))).isFile()).toBe(true)
    expect(ffmpegPath({ VIDSPEC_FFMPEG: '/opt/ffmpeg' })).toBe('/opt/ffmpeg')
    expect(ffprobePath({ VIDSPEC_FFPROBE: '/opt/ffprobe' })).toBe('/opt/ffprobe')
  })
})

describe('runFfmpeg', () => {
  it('writes the requested output', async () => {
    const out = join(dir, 'ok.mp4')
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=64x36:r=10:d=0.5', '-c:v', 'libx264', '-preset', 'ultrafast', '-y', out])
    expect((await stat(out)).size).toBeGreaterThan(0)
  })

  it('fails with INTERNAL carrying the tail of stderr', async () => {
    const err = await caught(runFfmpeg(['-i', join(dir, 'missing.mp4'), '-f', 'null', '-'], { what: 'decoding missing.mp4' }))
    expect(isVidspecError(err, 'INTERNAL')).toBe(true)
    expect((err as Error).message).toMatch(/^decoding missing\.mp4: ffmpeg exited with code 1/)
    expect((err as Error).message).toContain('No such file or directory')
  })

  it('is ABORTED and leaves no process behind when the signal fires mid-run', async () => {
    const out = join(dir, 'aborted-run.mp4')
    const ac = new AbortController()
    const run = runFfmpeg(['-re', '-f', 'lavfi', '-i', 'testsrc2=s=64x36:r=10:d=30', '-c:v', 'libx264', '-y', out], {
      signal: ac.signal,
    })
    await new Promise((r) => setTimeout(r, 300))
    expect(await processesMentioning(out)).toHaveLength(1)
    ac.abort(new Error('user pressed ctrl-c'))
    const err = await caught(run)
    expect(isVidspecError(err, 'ABORTED')).toBe(true)
    expect(await processesMentioning(out)).toEqual([])
  })

  it('does not start when the signal has already fired', async () => {
    const out = join(dir, 'never.mp4')
    const err = await caught(runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=d=1', '-y', out], { signal: AbortSignal.abort() }))
    expect(isVidspecError(err, 'ABORTED')).toBe(true)
    await expect(stat(out)).rejects.toThrow()
  })
})

describe('runTool', () => {
  it('returns stdout when asked', async () => {
    const { stdout } = await runTool(ffprobePath(), ['-version'], { stdout: true })
    expect(stdout).toMatch(/^ffprobe version/)
  })

  it('names the binary and the override when it cannot start', async () => {
    const err = await caught(runTool(join(dir, 'no-such-ffmpeg'), ['-version']))
    expect(isVidspecError(err, 'INTERNAL')).toBe(true)
    expect((err as Error).message).toMatch(/could not start .*no-such-ffmpeg.*VIDSPEC_FFMPEG/)
  })
})
