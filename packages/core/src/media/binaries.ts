import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** The installer packages are CommonJS and resolve the platform binary at load; load them only when asked. */
function installerPath(pkg: string): string {
  return (require(pkg) as { path: string }).path
}

/** ffmpeg to run: `VIDSPEC_FFMPEG` if set, else the binary shipped by `@ffmpeg-installer/ffmpeg`. */
export function ffmpegPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.VIDSPEC_FFMPEG || installerPath('@ffmpeg-installer/ffmpeg')
}

/** ffprobe to run: `VIDSPEC_FFPROBE` if set, else the binary shipped by `@ffprobe-installer/ffprobe`. */
export function ffprobePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.VIDSPEC_FFPROBE || installerPath('@ffprobe-installer/ffprobe')
}
