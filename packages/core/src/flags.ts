/**
 * The VIDSPEC_* switches, read once from the environment a project is opened with (the CLI's
 * `io.env`, a test's own env) into `config.flags`, never straight from process.env: a process may
 * open projects with different ones.
 */
export interface RuntimeFlags {
  /** VIDSPEC_NO_MEMO: load the config and evaluate every spec afresh (no memo read or written). */
  noMemo: boolean
  /** VIDSPEC_DEBUG: say what is normally left unsaid. */
  debug: boolean
  /** VIDSPEC_FFMPEG: the ffmpeg to run instead of the one `@ffmpeg-installer/ffmpeg` ships. */
  ffmpeg?: string | undefined
  /** VIDSPEC_FFPROBE: the ffprobe to run instead of the one `@ffprobe-installer/ffprobe` ships. */
  ffprobe?: string | undefined
  /** VIDSPEC_REMOTE_MODE: overrides `remote.mode` (checked where the remote is resolved). */
  remoteMode?: string | undefined
}

export function runtimeFlags(env: NodeJS.ProcessEnv): RuntimeFlags {
  return {
    noMemo: Boolean(env.VIDSPEC_NO_MEMO),
    debug: Boolean(env.VIDSPEC_DEBUG),
    ffmpeg: env.VIDSPEC_FFMPEG || undefined,
    ffprobe: env.VIDSPEC_FFPROBE || undefined,
    remoteMode: env.VIDSPEC_REMOTE_MODE?.trim() || undefined,
  }
}
