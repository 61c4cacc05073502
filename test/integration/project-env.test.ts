import { afterEach, expect, it } from 'vitest'
import { Vidspec } from '@vidspec/core'
import { ffmpegPath, probeVideo } from '@vidspec/core/internal'
import { countingFfmpeg, tempProject, type TempProject } from '../helpers/project.js'

// The VIDSPEC_* switches come from the env a project is opened with: one process (a dev server, a
// test runner) can hold projects opened with different ones, and process.env is never consulted.
const spec = "import { defineVideo } from '@vidspec/core'\nexport default defineVideo({ model: 'minimax/hailuo-02', prompt: 'env', seconds: 1, width: 64, height: 64, fps: 8, seed: 3 })\n"

let projects: TempProject[] = []
afterEach(async () => {
  await Promise.all(projects.map((p) => p.dispose()))
  projects = []
})

async function fresh(files: Record<string, string> = { 'clip.video.ts': spec }): Promise<TempProject> {
  const p = await tempProject(files)
  projects.push(p)
  return p
}

it("a project runs the ffmpeg and ffprobe of its own env, not the process's", async () => {
  expect(process.env.VIDSPEC_FFMPEG).toBeUndefined()
  const counted = await fresh()
  const ffmpeg = await countingFfmpeg(counted.root, ffmpegPath())
  // A plain MP4, with AAC sound or without, is read without ffprobe (media/mp4-shape.ts); a WebM needs it.
  const sound = spec.replace("'minimax/hailuo-02'", "'google/veo-3.0-audio'").replace('seed: 3', 'seed: 5, generate_audio: true')
  const broken = await fresh({ 'clip.video.ts': spec, 'sound.video.ts': sound, 'web.video.ts': spec.replace("seed: 3", "seed: 4, output_format: 'WEBM'") })
  const base = { ...process.env, VIDSPEC_NO_MEMO: '1' }

  const a = await Vidspec.open({ root: counted.root, env: { ...base, VIDSPEC_FFMPEG: ffmpeg.path }, overrides: { provider: 'offline' } })
  const b = await Vidspec.open({ root: broken.root, env: { ...base, VIDSPEC_FFPROBE: '/nonexistent/ffprobe' }, overrides: { provider: 'offline' } })
  expect(a.config.flags).toMatchObject({ noMemo: true, ffmpeg: ffmpeg.path })

  const built = await a.build({ lockfile: false })
  expect(built.counts.generated).toBe(1)
  expect(await ffmpeg.count()).toBe(1)

  // The other project's probe of its rendered WebM runs the ffprobe its env names, and fails on it.
  const failed = await b.build({ lockfile: false })
  expect(failed.counts).toMatchObject({ failed: 1, generated: 2 })
  const withSound = failed.items.find((i) => i.file.endsWith('sound.video.ts'))?.entry
  expect(withSound).toMatchObject({ ext: 'mp4', width: 64, height: 64, fps: 8 })
  const probed = await probeVideo(b.objectPath(withSound!))
  expect(probed).toMatchObject({ hasAudio: true, audioCodec: 'aac', duration: withSound!.duration })
  const web = failed.items.find((i) => i.file.endsWith('web.video.ts'))
  expect(String(web?.error?.message)).toContain('/nonexistent/ffprobe')
  expect(await ffmpeg.count()).toBe(1)
})
