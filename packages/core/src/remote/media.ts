import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { extname, join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { VidspecError } from '../errors.js'
import type { ResolvedRemote } from './config.js'
import { RemoteError, S3Bucket } from './s3.js'

/** Where an uploaded input lives in the bucket, under the prefix: named by its content, so it is uploaded once. */
export const mediaPath = (sha256: string, ext: string): string => `media/${sha256}.${ext}`

/** A local input that must reach the provider as a URL. */
export interface HostedFile {
  /** Absolute path. */
  path: string
  /** sha256 of the bytes the cache key was computed from. */
  sha256: string
  /** Bytes, when known: an object of another size under the same name is not this file. */
  size?: number | undefined
  mime: string
  /** Project-relative spec and field, for messages. */
  spec: string
  field: string
}

/**
 * Turns local media into URLs the provider can fetch. The URL is never part of the cache key (the
 * content hash is), so a new signature, a new bucket or a new expiry never regenerates a clip.
 */
export interface MediaHost {
  /** Only `read-write` uploads; `read-only` (fork CI) reuses what a trusted build already uploaded. */
  readonly mode: ResolvedRemote['mode']
  /** `s3://bucket/prefix`, for messages. */
  readonly where: string
  urlFor(file: HostedFile): Promise<string>
}

export interface S3MediaHostOptions {
  /** How long a presigned URL stays valid, in seconds. */
  urlTtlSeconds: number
  bucket?: S3Bucket
}

/**
 * How long a presigned input URL lives: twice the job timeout, so it outlives the job (the provider
 * may fetch it while the job is queued, or again on its own retry), at least an hour, and at most
 * the 7 days SigV4 allows.
 */
export function mediaUrlTtlSeconds(jobTimeoutMs: number): number {
  return Math.min(604_800, Math.max(3600, Math.ceil((2 * jobTimeoutMs) / 1000)))
}

/** Local media hosted in the remote cache's bucket (`media/<sha256>.<ext>`), handed out as presigned GET URLs. */
export function s3MediaHost(remote: ResolvedRemote, opts: S3MediaHostOptions): MediaHost {
  const bucket = opts.bucket ?? new S3Bucket(remote.s3)
  // One upload per object per process, however many specs or retries ask for it at once.
  const uploads = new Map<string, Promise<void>>()

  const ensure = async (file: HostedFile, at: string): Promise<void> => {
    const there = await bucket.head(at)
    if (there && (file.size === undefined || there.size === file.size)) return
    if (remote.mode !== 'read-write') {
      const state = there ? `holds ${there.size} bytes, not this file's ${file.size}` : 'does not exist'
      throw new VidspecError(
        'SPEC_INVALID',
        `${file.spec}: ${file.field}: ${file.path} reaches Together only as a URL, and ${bucket.where}/${at} ${state}. ` +
          'The remote is read-only here (remote.mode or VIDSPEC_REMOTE_MODE), and a read-only remote never uploads: ' +
          'run a build in read-write mode once, or host the file and use an https URL. Nothing was sent to Together.',
        { file: file.spec },
      )
    }
    // Missing, or a truncated / foreign object under this file's name: (re)write it from verified bytes.
    await upload(bucket, file, at)
  }

  return {
    mode: remote.mode,
    where: bucket.where,
    async urlFor(file) {
      const ext = extname(file.path).slice(1).toLowerCase() || 'bin'
      const at = mediaPath(file.sha256, ext)
      let pending = uploads.get(at)
      if (!pending) {
        pending = ensure(file, at)
        uploads.set(at, pending)
        // A failed attempt must not stick: the next create (or retry) tries again.
        pending.catch(() => uploads.delete(at))
      }
      try {
        await pending
        return await bucket.presignGet(at, opts.urlTtlSeconds)
      } catch (err) {
        if (!(err instanceof RemoteError)) throw err
        throw new VidspecError(
          'PROVIDER_UNAVAILABLE',
          `${file.spec}: ${file.field}: could not host ${file.path} in ${bucket.where}: ${err.message}. Nothing was sent to Together.`,
          { cause: err, file: file.spec },
        )
      }
    },
  }
}

/**
 * Uploads from a private copy whose bytes were hashed on the way in: a file edited after its key was
 * computed can never be stored under the old content's name (which would poison every later run).
 */
async function upload(bucket: S3Bucket, file: HostedFile, at: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vidspec-media-'))
  try {
    const copy = join(dir, 'upload')
    const hash = createHash('sha256')
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk)
        done(null, chunk)
      },
    })
    try {
      await pipeline(createReadStream(file.path), tap, createWriteStream(copy))
    } catch (err) {
      throw new VidspecError('SPEC_LOAD_FAILED', `${file.spec}: ${file.field}: cannot read ${file.path}`, { cause: err, file: file.spec })
    }
    if (hash.digest('hex') !== file.sha256) {
      throw new VidspecError(
        'SPEC_LOAD_FAILED',
        `${file.spec}: ${file.field}: ${file.path} changed after the cache key was computed; run again`,
        { file: file.spec },
      )
    }
    await bucket.putFile(at, copy, file.mime)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
