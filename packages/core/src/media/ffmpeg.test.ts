import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isVidspecError } from '../errors.js'
import { runtimeFlags } from '../flags.js'
import { mediaTools } from './binaries.js'
import { ffmpegPath, ffprobePath, probeVideo, runFfmpeg, runTool } from './ffmpeg.js'

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
    const shipped = mediaTools(runtimeFlags({}))
    expect((await stat(ffmpegPath(shipped))).isFile()).toBe(true)
    expect((await stat(ffprobePath(shipped))).isFile()).toBe(true)
    const chosen = mediaTools(runtimeFlags({ VIDSPEC_FFMPEG: '/opt/ffmpeg', VIDSPEC_FFPROBE: '/opt/ffprobe' }))
    expect(ffmpegPath(chosen)).toBe('/opt/ffmpeg')
    expect(ffprobePath(chosen)).toBe('/opt/ffprobe')
  })

  it("a project's tools come from the env it was opened with, not the process's", async () => {
    const tools = mediaTools(runtimeFlags({ VIDSPEC_FFPROBE: '/nonexistent/ffprobe' }))
    const file = join(dir, 'some.mp4')
    await writeFile(file, 'not empty')
    const err = await caught(probeVideo(file, { tools }))
    expect(String(err)).toContain('/nonexistent/ffprobe')
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
