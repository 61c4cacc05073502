import type { ProviderName } from '../providers/types.js'
import type { RenditionsInput } from '../renditions/types.js'

/**
 * `vidspec.config.ts` at the project root, and the Vite plugin's options: one shape, so the CLI and
 * the plugin always compute the same keys and use the same store.
 */
export interface VidspecConfigInput {
  /**
   * Where the store lives, relative to the project root. Never put it under node_modules: `npm ci`
   * deletes it, and it holds paid work.
   * @default '.vidspec'
   */
  cacheDir?: string
  /**
   * `auto` uses Together when the project has paid clips (pinned in `vidspec.lock.json`, or Together
   * clips in the store) or `TOGETHER_API_KEY` is set, and the offline preview renderer otherwise. The
   * key is needed only to create a new generation: without it the approved clips are still used.
   * @default 'auto'
   */
  provider?: ProviderName | 'auto'
  /**
   * Generations in flight at once.
   * @default 4
   */
  concurrency?: number
  /**
   * Globs (relative to the root) that find specs.
   * @default ['**\/*.video.{ts,mts,js,mjs}']
   */
  include?: string[]
  /**
   * Extra globs to skip. node_modules, the cache dir and build outputs (dist, build, .git) are always skipped.
   * @default []
   */
  ignore?: string[]
  /**
   * How long one spec may take to evaluate (its top-level code, awaits and timers), in milliseconds.
   * Specs run in worker threads; one that loops, never settles or keeps a timer alive past this
   * fails as SPEC_LOAD_FAILED, and the other specs still build.
   * @default 5000
   */
  specTimeoutMs?: number
  /** Local media files (keyframes, reference videos, audio) named by specs. */
  media?: {
    /**
     * Folders outside the project root (absolute, or relative to the root) that local media may
     * come from. Inside the root is always allowed; anything else, a symlink pointing out included,
     * is refused before any request.
     * @default []
     */
    allow?: string[]
  }
  /** Together provider settings. The API key only ever comes from `TOGETHER_API_KEY`. */
  together?: {
    /**
     * Overrides the API base URL (a proxy, or the fake server in tests). `TOGETHER_BASE_URL` wins.
     * @default 'https://api.together.ai/v2'
     */
    baseURL?: string
    /**
     * Per-request timeout for create/poll calls.
     * @default 60000
     */
    requestTimeoutMs?: number
    /** @deprecated use `jobs.jobTimeoutMs` (still read, with a warning) */
    jobTimeoutMs?: number
    /** @deprecated use `jobs.pollIntervalMs` (still read, with a warning) */
    pollIntervalMs?: number
    /** @deprecated use `jobs.maxPollIntervalMs` (still read, with a warning) */
    maxPollIntervalMs?: number
    /** @deprecated use `jobs.downloadIdleTimeoutMs` (still read, with a warning) */
    downloadIdleTimeoutMs?: number
  }
  /** How the runner waits for a provider's jobs, whichever provider it is. */
  jobs?: {
    /**
     * Give up polling a job after this long; the journal keeps it for the next run.
     * @default 1_800_000 (30 minutes)
     */
    jobTimeoutMs?: number
    /**
     * First poll interval; it backs off up to `maxPollIntervalMs`. A job like ones already seen
     * finishing in this process (same provider, model, size, length, steps) is first polled at 80% of
     * the shortest of their times (later, up to one interval before it, once three or more took alike
     * times), then from this interval again.
     * @default 2000
     */
    pollIntervalMs?: number
    /** @default 15000 */
    maxPollIntervalMs?: number
    /**
     * A result download that receives no byte for this long is dropped and tried again (with a fresh
     * URL). There is no limit on a download's total time: a big clip on a slow link may take long.
     * @default 60000
     */
    downloadIdleTimeoutMs?: number
  }
  /**
   * The per-key store locks that keep two processes from paying for one clip. A holder alive on this
   * host is never taken over, however long it is paused.
   */
  locks?: {
    /**
     * A lock whose holder cannot be checked (a file caught before its first write) is abandoned once
     * its heartbeat is this old.
     * @default 30000
     */
    staleMs?: number
    /**
     * A holder on another host (a shared network store) is presumed alive this long after its last
     * heartbeat, since its process cannot be asked.
     * @default 3600000 (1 hour)
     */
    otherHostStaleMs?: number
  }
  /** Retries of answers that prove nothing was done (429; a 503 with the API's own error; no connection). */
  retry?: {
    /** @default 5 */
    retries?: number
    /** @default 500 */
    minDelayMs?: number
    /** @default 30000 */
    maxDelayMs?: number
  }
  /**
   * What a production build does when it would ship offline previews.
   * @default 'warn' ('error' when CI=true)
   */
  previews?: 'allow' | 'warn' | 'error'
  /**
   * Builds (`vidspec build`, `vite build`) forbid paid generation: a spec whose clip is in no cache
   * stops the build (exit 3) before any request. The CLI's `--frozen` / `--no-frozen` win over it.
   * `watch` and the dev server are not builds and ignore it.
   * @default false (true when CI=true)
   */
  frozen?: boolean
  /**
   * Prices for `--max-cost` and `vidspec plan`, per model, for models whose price Together has not
   * published (or to override it): dollars per second of output or per video, either one number or
   * one per resolution (`'720p'`, `'1080p'`, `'1366x768'`, ...).
   * @example { 'minimax/hailuo-02': { perVideo: { '768p': 0.28, '1080p': 0.49 } } }
   * @default {}
   */
  prices?: Record<string, ModelPrice>
  /**
   * A cache shared through an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO): a clip generated
   * once, anywhere, is fetched everywhere else. Credentials come from the standard AWS chain only.
   */
  remote?: RemoteConfigInput
  /**
   * What the site ships of each clip, made locally with ffmpeg from the paid master (which stays
   * untouched): formats, widths, quality, audio, posters, a placeholder. A spec's
   * `defineVideo({ renditions })` and an import's directives (`./hero.video?w=640&format=webm;mp4`)
   * override it field by field. Never part of the generation key: changing it never costs a generation.
   * `false` ships the clips only (no renditions, posters or placeholders anywhere).
   * @default { formats: ['mp4'], widths: ['original'], audio: 'keep', poster: { times: [0], formats: ['jpg'] }, placeholder: true, remote: false }
   */
  renditions?: RenditionsInput | false
}

/** Dollars; a number for every resolution, or one per resolution (`'720p'`, `'1366x768'`). */
export type PriceTable = number | Record<string, number>

/** Exactly one of the two. */
export type ModelPrice = { perSecond: PriceTable; perVideo?: undefined } | { perVideo: PriceTable; perSecond?: undefined }

/** `VIDSPEC_REMOTE_MODE` overrides it (e.g. read-only for CI on pull requests from forks). */
export type RemoteMode = 'read-write' | 'read-only' | 'off'

export interface RemoteConfigInput {
  /**
   * `read-only` fetches but never writes: use it where the code being built is not trusted, so a
   * pull request cannot poison the cache everyone else ships from.
   * @default 'read-write'
   */
  mode?: RemoteMode
  s3: {
    bucket: string
    /** Key prefix inside the bucket, e.g. `'vidspec/site'`. @default '' */
    prefix?: string
    /** @default AWS_REGION, else 'us-east-1' ('auto' for Cloudflare R2) */
    region?: string
    /** An S3-compatible endpoint (R2, MinIO). @default AWS S3 */
    endpoint?: string
    /** @default true when `endpoint` is set */
    forcePathStyle?: boolean
  }
  /**
   * The longest one remote request may take (a silent or dripping remote is cut off here, and the
   * request retried a few times with backoff). @default 30000
   */
  requestTimeoutMs?: number
  /**
   * Claims are leases: the machine paying for a key rewrites its claim every `heartbeatMs`; another
   * machine takes it over only when it is older than `staleMs` by the bucket's clock (its owner
   * died). A machine waits at most `waitMs` for another's clip, then gives up without paying.
   */
  lease?: {
    /** @default 15000 */
    heartbeatMs?: number
    /** At least 2 × heartbeatMs + 2000. @default 120000 */
    staleMs?: number
    /** @default jobs.jobTimeoutMs + staleMs */
    waitMs?: number
  }
}
