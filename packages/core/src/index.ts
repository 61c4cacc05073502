// The public entry of @vidspec/core: what a project's specs and config use, and what the two
// adapters (@vidspec/vite, @vidspec/watcher) need. Everything else is internal; the adapters reach
// core only through these names (packages/watcher/src/boundary.test.ts), mostly through `Vidspec`.

// Specs and config files.
export { defineVideo, defineConfig } from './define.js'
export * from './types.js'
export type { ModelPrice, PriceTable, RemoteConfigInput, RemoteMode, VidspecConfigInput } from './config/types.js'
export type { ResolvedConfig } from './config/resolve.js'
export type { ResolvedRemote } from './remote/config.js'

// Errors: one type with a stable code, and the CLI's exit code for each.
export * from './errors.js'

// The project facade and what its methods take and give.
export { Vidspec } from './project.js'
export type { BuildItem, BuildOptions, BuildResult, BuildStatus, LoadedSpec, MasterOption, OpenOptions, PlanItem, PlanStatus, SharedCache } from './project.js'
export type { RunResult } from './runner/runner.js'
export type { ManifestItem, ManifestRendition, OutputItem } from './output.js'
export type { LockedClip, Lockfile } from './lockfile.js'
export type { Miss, Prices, SpendLimits } from './guards.js'
export type { PreviewsVerdict } from './previews.js'
export type { CollectOptions, KeepSet } from './gc.js'
export type { GcReport, Quarantined, RestoreReport, VerifyReport } from './store/index.js'
export type { PulledClip, PullOutcome, PullReport, PushReport } from './remote/sync.js'
export { RemoteError } from './remote/s3.js'
export { CONFIG_FILE_NAMES, loadConfig } from './config/load.js'
export { resolveProvider } from './providers/create.js'

// Providers an embedder may pass to `Vidspec.open` (tests, the CLI's gc).
export { offlineProvider } from './providers/offline.js'
export { togetherProvider } from './providers/together.js'
export type * from './providers/types.js'

// Logging and how the adapters word what core reports.
export type { Logger, VidspecEvent } from './logger.js'
export { consoleLogger, silentLogger } from './logger.js'
export { ProgressLines } from './progress-lines.js'
export { formatWarningGroup, warningSummary } from './warnings.js'
export type { WarningGroup } from './warnings.js'
export { describeChange } from './plan/diff.js'
export type { FieldChange } from './plan/diff.js'
export { explainPlan } from './plan/explain.js'
export type { Verdict, VerdictOutput } from './plan/verdict.js'
export { shownEndpoint } from './remote/config.js'
export { specShard } from './remote/shard.js'

// What the Vite plugin derives from a spec or a clip without a project (pending stand-ins, posters).
export { extractPoster } from './media/ffmpeg.js'
export { outputExt, outputGeometry } from './media/geometry.js'
export { previewKey } from './preview.js'

// Renditions: what a site ships of a clip (see renditions/index.ts).
export * from './renditions/index.js'

// Markup for a page: `<video>` with its sources, box, poster and placeholder.
export { videoHtml, type VideoAttributes } from './markup.js'

// Watch mode.
export { ProjectWatcher } from './watch/watcher.js'
// What the dev server's jobs run on (watch mode uses ProjectWatcher, over the same SpecTracker).
export { EditorPresence, isCurrent, RECHECK_MS, specJobs } from './watch/tracker.js'
export { reloadProject, type ConfigReload } from './watch/reload.js'
export { InputIndex } from './watch/inputs.js'
export type { WantedSpec } from './watch/tracker.js'
// One definition of a spec file, for the Vite plugin's import filter.
export { SPEC_EXTENSIONS, SPEC_FILE_RE } from './spec/discover.js'
export type { WatchDecision, WatchDecisionKind, WatchOptions } from './watch/watcher.js'
