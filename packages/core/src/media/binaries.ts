import { accessSync, chmodSync, constants, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { VidspecError } from '../errors.js'
import { runtimeFlags, type RuntimeFlags } from '../flags.js'

const require = createRequire(import.meta.url)
const ready = new Set<string>()

/**
 * The installer packages are CommonJS and resolve the platform binary at load; load them only when
 * asked. Their only install script is `chmod u+x` (and @ffprobe-installer/linux-x64 ships its binary
 * without the executable bit), so a package manager that skips install scripts (pnpm 10+ until a
 * build is approved) leaves ffprobe unrunnable: do that chmod here, once, instead of asking the user.
 */
function installerPath(pkg: string): string {
  const path = (require(pkg) as { path: string }).path
  if (!ready.has(path)) {
    makeExecutable(path, pkg)
    ready.add(path)
  }
  return path
}

export function makeExecutable(path: string, pkg: string): void {
  try {
    accessSync(path, constants.X_OK)
    return
  } catch {
    // not executable (or missing): fall through
  }
  try {
    chmodSync(path, statSync(path).mode | 0o111)
    accessSync(path, constants.X_OK)
  } catch (err) {
    throw new VidspecError(
      'INTERNAL',
      `${path} (from ${pkg}) is not executable and could not be made so: ${(err as Error).message}.` +
        ` Run chmod +x on it, or let its install script run (pnpm: allowBuilds in pnpm-workspace.yaml).`,
      { cause: err },
    )
  }
}

/**
 * The ffmpeg and ffprobe a project runs, from its flags (VIDSPEC_FFMPEG / VIDSPEC_FFPROBE) or else
 * the shipped binaries, found on first use: a command that never probes never loads the installers.
 */
export interface MediaTools {
  ffmpeg(): string
  ffprobe(): string
}

export function mediaTools(flags: Pick<RuntimeFlags, 'ffmpeg' | 'ffprobe'>): MediaTools {
  return {
    ffmpeg: () => flags.ffmpeg ?? installerPath('@ffmpeg-installer/ffmpeg'),
    ffprobe: () => flags.ffprobe ?? installerPath('@ffprobe-installer/ffprobe'),
  }
}

/** For direct library use without a project (a test, a script): the process's own environment. */
export function processTools(): MediaTools {
  return mediaTools(runtimeFlags(process.env))
}

/** ffmpeg to run: `VIDSPEC_FFMPEG` if set, else the binary shipped by `@ffmpeg-installer/ffmpeg`. */
export function ffmpegPath(tools: MediaTools = processTools()): string {
  return tools.ffmpeg()
}

/** ffprobe to run: `VIDSPEC_FFPROBE` if set, else the binary shipped by `@ffprobe-installer/ffprobe`. */
export function ffprobePath(tools: MediaTools = processTools()): string {
  return tools.ffprobe()
}
