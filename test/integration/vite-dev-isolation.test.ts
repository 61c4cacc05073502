import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ffmpegPath } from '@vidspec/core/internal'
import { setEnv } from '../helpers/env.js'
import { tempProject, type TempProject } from '../helpers/project.js'
import { fetchAsset, recordingFfmpeg, specSource, startDev, type DevServer } from '../helpers/vite.js'
import { until } from '../helpers/wait.js'

// Issue 19.4: the dev server evaluates specs in workers. A spec's unhandled rejection, throwing timer
// or endless loop is that spec's error (the import answers 500 naming it); the server never exits
// and keeps answering other specs meanwhile. (Before, the rejection ended the server with code 1,
// and the loop stopped it answering anything.) Vitest itself fails a run on an unhandled rejection
// in this process, so passing also says none escaped the workers.

const fields = (prompt: string) => `{ model: 'minimax/hailuo-02', prompt: '${prompt}', seconds: 1, width: 160, height: 90, fps: 10 }`
const misbehaving = (body: string, prompt: string) => `${body}\n${specSource(fields(prompt))}`

let project: TempProject
let dev: DevServer
let restoreEnv = () => {}

beforeAll(async () => {
  project = await tempProject({
    'good.video.ts': specSource(fields('good')),
    'rejects.video.ts': misbehaving("void Promise.reject(new Error('rejected later'))", 'rejects'),
    'timer.video.ts': misbehaving("setTimeout(() => { throw new Error('timer threw') }, 5)", 'timer'),
    'index.html': '<!doctype html>',
  })
  const marker = JSON.stringify(project.path('looping.marker'))
  await project.write('loop.video.ts', misbehaving(`import { writeFileSync } from 'node:fs'\nwriteFileSync(${marker}, 'x')\nwhile (true) {}`, 'loop'))
  const ffmpeg = await recordingFfmpeg(project.root, ffmpegPath(), {})
  restoreEnv = setEnv({ VIDSPEC_FFMPEG: ffmpeg.path })
  dev = await startDev(project.root, { provider: 'offline', specTimeoutMs: 6000 })
})
afterAll(async () => {
  await dev?.close()
  restoreEnv()
  await project?.dispose()
})

async function answer(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${dev.url}/${path}`)
  return { status: res.status, text: await res.text() }
}

describe('vite dev with misbehaving specs', () => {
  it('answers each with its own error and keeps serving, also while a spec loops', async () => {
    const loop = answer('loop.video.ts')
    let loopAnswered = false
    void loop.then(() => (loopAnswered = true))
    // While the loop holds one worker (it has written its marker), the others still answer. The
    // loop's limit (6 s) is only a generous bound for the three small requests below.
    await until('the loop to start', () => existsSync(project.path('looping.marker')))
    expect((await fetchAsset(`${dev.url}/good.video.ts`)).width).toBe(160)
    const rejects = await answer('rejects.video.ts')
    expect(rejects.status).toBe(500)
    expect(rejects.text).toMatch(/rejects\.video\.ts[\s\S]*threw after evaluating \(an unhandled rejection or a throwing timer\): rejected later/)
    const timer = await answer('timer.video.ts')
    expect(timer.status).toBe(500)
    expect(timer.text).toMatch(/timer\.video\.ts[\s\S]*timer threw/)
    expect(loopAnswered).toBe(false)
    const looped = await loop
    expect(looped.status).toBe(500)
    expect(looped.text).toMatch(/loop\.video\.ts[\s\S]*did not finish evaluating within 6 s/)

    // Fixed, it loads; the server never went away.
    await project.write('rejects.video.ts', specSource(fields('rejects fixed')))
    const fixed = await until('the fixed spec loads', async () => {
      try {
        return await fetchAsset(`${dev.url}/rejects.video.ts`)
      } catch {
        return undefined
      }
    })
    expect(fixed.width).toBe(160)
  })
})
