/**
 * The VIDSPEC_* switches, read from the environment a project is opened with (the CLI's `io.env`, a
 * test's own env), never straight from process.env: a process may open projects with different ones.
 */
export interface RuntimeFlags {
  /** VIDSPEC_NO_MEMO: load the config and evaluate every spec afresh (no memo read or written). */
  noMemo: boolean
  /** VIDSPEC_DEBUG: say what is normally left unsaid. */
  debug: boolean
}

export function runtimeFlags(env: NodeJS.ProcessEnv): RuntimeFlags {
  return { noMemo: Boolean(env.VIDSPEC_NO_MEMO), debug: Boolean(env.VIDSPEC_DEBUG) }
}
