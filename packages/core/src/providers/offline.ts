import { rm } from 'node:fs/promises'
import { resolve } from 'node:path'
import { outputExt, outputGeometry } from '../media/geometry.js'
import type { MediaTools } from '../media/binaries.js'
import { runFfmpeg } from '../media/run.js'
import { pictureGraph } from './offline-picture.js'
import type { CallContext, LocalProvider, ProviderRequest } from './types.js'

/**
 * H.264 and 4:2:0 chroma need even sides, so an odd width or height is rendered one pixel smaller
 * (never below 2). Both formats follow the same rule, so a preview has one size whatever its format.
 */
export function previewSize(width: number, height: number): { width: number; height: number } {
  const even = (n: number) => Math.max(2, Math.floor(n / 2) * 2)
  return { width: even(width), height: even(height) }
}

// Single-threaded encoders with bitexact muxing: the same request gives the same bytes on every run
// (x264 writes its settings, thread count included, into the stream).
const MP4_ARGS = ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '26', '-pix_fmt', 'yuv420p', '-threads', '1']
const WEBM_ARGS = [
  '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-crf', '36', '-b:v', '0',
  '-pix_fmt', 'yuv420p', '-threads', '1', '-row-mt', '0', '-tile-columns', '0',
]
const BITEXACT = ['-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact', '-map_metadata', '-1']

/**
 * A quiet steady tone: enough to show the clip has sound without startling anyone. Opus takes 20 ms
 * frames only, and this ffmpeg does not re-chunk a filter graph's audio for it.
 */
function toneGraph(seconds: number, webm: boolean): string {
  const chunk = webm ? 960 : 1024
  return `sine=frequency=440:sample_rate=48000:samples_per_frame=${chunk}:duration=${seconds},volume=0.1[a]`
}

/** The local file of the spec's first-frame image, if it has one (URLs stay unfetched: offline means offline). */
export function firstFrameFile(req: ProviderRequest): string | undefined {
  const frames = req.request.media?.frame_images ?? []
  const first = frames.find((f, i) => f.frame === 'first' || f.frame === 0 || (f.frame === undefined && i === 0))
  const media = first ? req.media.get(first.input_image) : undefined
  return media?.kind === 'file' ? media.path : undefined
}

/** `src/videos/hero.video.ts` -> `hero`: what a person calls the spec. */
function displayName(spec: string): string {
  return spec.replace(/\.video\.ts$/, '').split('/').pop() ?? spec
}

export async function renderPreview(req: ProviderRequest, outFile: string, ctx: CallContext = {}, tools?: MediaTools): Promise<void> {
  const geometry = outputGeometry(req.request)
  const { width, height } = previewSize(geometry.width, geometry.height)
  const { fps, seconds, format } = geometry
  const frames = Math.max(1, Math.round(seconds * fps))
  const audio = req.request.generate_audio === true
  const webm = outputExt(format) === 'webm'
  const image = firstFrameFile(req)
  const graph = pictureGraph({ key: req.key, width, height, fps, seconds, name: displayName(req.spec), ...(image ? { image: '[0:v]' } : {}) })
  const args = [
    ...(image ? ['-framerate', String(fps), '-i', resolve(image)] : []),
    '-filter_complex', audio ? `${graph};${toneGraph(seconds, webm)}` : graph,
    '-map', '[v]',
    ...(audio ? ['-map', '[a]'] : []),
    '-frames:v', String(frames),
    '-g', String(Math.max(1, Math.round(fps * 2))),
    ...(webm ? WEBM_ARGS : MP4_ARGS),
    ...(audio ? (webm ? ['-c:a', 'libopus', '-b:a', '48k'] : ['-c:a', 'aac', '-b:a', '64k']) : []),
    ...BITEXACT,
    ...(webm ? ['-f', 'webm'] : ['-f', 'mp4', '-movflags', '+faststart']),
    '-y', resolve(outFile),
  ]
  try {
    await runFfmpeg(args, { signal: ctx.signal, what: `${req.spec}: rendering the offline preview`, tools })
  } catch (err) {
    await rm(outFile, { force: true })
    throw err
  }
}

/**
 * The embedded provider for a machine with no key and no network: renders a placeholder clip with
 * the request's length, size, frame rate and format and a picture drawn from the cache key. It costs
 * nothing and its outputs are marked as previews.
 */
export function offlineProvider(tools?: MediaTools): LocalProvider {
  return {
    kind: 'local',
    id: 'offline',
    preview: true,
    async render(req, outFile, ctx) {
      await renderPreview(req, outFile, ctx, tools)
      return { cost: 0 }
    },
  }
}
