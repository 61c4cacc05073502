import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { S3Client } from '@aws-sdk/client-s3'
import { VidspecError } from '../errors.js'
import type { ResolvedRemote } from './config.js'

type S3Module = typeof import('@aws-sdk/client-s3')

/** The remote could not be used: network, 5xx, timeout, access denied. Callers warn and go on locally. */
export class RemoteError extends Error {
  readonly status: number | undefined
  constructor(message: string, opts: { cause?: unknown; status?: number | undefined } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'RemoteError'
    this.status = opts.status
  }
}

export interface HeadResult {
  etag: string | undefined
  size: number
  lastModified: Date | undefined
}

export interface BucketTimeouts {
  /** @default 5000 */
  connectionTimeoutMs?: number
  /** No byte for this long ends a request. @default 30000 */
  requestTimeoutMs?: number
}

/**
 * One bucket and prefix, spoken to through the AWS SDK. The SDK is loaded on first use: most
 * commands never touch the remote, and it costs a noticeable part of the CLI's start.
 */
export class S3Bucket {
  readonly #cfg: ResolvedRemote['s3']
  readonly #timeouts: Required<BucketTimeouts>
  #sdk: Promise<{ mod: S3Module; client: S3Client }> | undefined

  constructor(cfg: ResolvedRemote['s3'], timeouts: BucketTimeouts = {}) {
    this.#cfg = cfg
    this.#timeouts = { connectionTimeoutMs: 5000, requestTimeoutMs: 30_000, ...timeouts }
  }

  /** `s3://bucket/prefix`, for messages. */
  get where(): string {
    return `s3://${this.#cfg.bucket}${this.#cfg.prefix ? `/${this.#cfg.prefix}` : ''}`
  }

  /** The object key of a path in the store's layout (`entries/<key>.json`, `objects/<digest>.<ext>`). */
  key(path: string): string {
    return this.#cfg.prefix ? `${this.#cfg.prefix}/${path}` : path
  }

  async getJson(path: string): Promise<unknown> {
    const { mod, client } = await this.#load()
    try {
      const out = await client.send(new mod.GetObjectCommand({ Bucket: this.#cfg.bucket, Key: this.key(path) }))
      const text = (await out.Body?.transformToString('utf8')) ?? ''
      try {
        return JSON.parse(text) as unknown
      } catch {
        return undefined
      }
    } catch (err) {
      if (isMissing(err)) return undefined
      throw this.#fail(`read ${path}`, err)
    }
  }

  /** Streams an object to `file`, hashing it on the way; undefined when there is no such object. */
  async download(path: string, file: string, signal?: AbortSignal): Promise<{ digest: string; size: number } | undefined> {
    const { mod, client } = await this.#load()
    let body: Readable
    try {
      const out = await client.send(new mod.GetObjectCommand({ Bucket: this.#cfg.bucket, Key: this.key(path) }), {
        abortSignal: signal,
      })
      body = out.Body as Readable
    } catch (err) {
      if (isMissing(err)) return undefined
      throw this.#fail(`download ${path}`, err, signal)
    }
    const hash = createHash('sha256')
    let size = 0
    try {
      body.on('data', (chunk: Buffer) => {
        size += chunk.length
        hash.update(chunk)
      })
      await pipeline(body, createWriteStream(file), signal ? { signal } : {})
    } catch (err) {
      // A full or unwritable local disk is this machine's problem, not the remote's.
      if (isLocalFileError(err)) throw err
      throw this.#fail(`download ${path}`, err, signal)
    }
    return { digest: hash.digest('hex'), size }
  }

  async head(path: string): Promise<HeadResult | undefined> {
    const { mod, client } = await this.#load()
    try {
      const out = await client.send(new mod.HeadObjectCommand({ Bucket: this.#cfg.bucket, Key: this.key(path) }))
      return { etag: out.ETag, size: out.ContentLength ?? 0, lastModified: out.LastModified }
    } catch (err) {
      if (isMissing(err)) return undefined
      throw this.#fail(`check ${path}`, err)
    }
  }

  async putFile(path: string, file: string, contentType: string): Promise<void> {
    const { mod, client } = await this.#load()
    const { size } = await stat(file)
    try {
      await client.send(
        new mod.PutObjectCommand({
          Bucket: this.#cfg.bucket,
          Key: this.key(path),
          Body: createReadStream(file),
          ContentLength: size,
          ContentType: contentType,
        }),
      )
    } catch (err) {
      throw this.#fail(`upload ${path}`, err)
    }
  }

  /**
   * Writes a small JSON object. With `ifNoneMatch` the write only happens when no object is there
   * (with `ifMatch`, only over that exact version); false when that condition failed (HTTP 412).
   */
  async putJson(path: string, value: unknown, cond: { ifNoneMatch?: boolean; ifMatch?: string } = {}): Promise<boolean> {
    const { mod, client } = await this.#load()
    try {
      await client.send(
        new mod.PutObjectCommand({
          Bucket: this.#cfg.bucket,
          Key: this.key(path),
          Body: `${JSON.stringify(value, null, 2)}\n`,
          ContentType: 'application/json',
          ...(cond.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
          ...(cond.ifMatch ? { IfMatch: cond.ifMatch } : {}),
        }),
      )
      return true
    } catch (err) {
      // 409 ConditionalRequestConflict: a concurrent conditional write to the same key won.
      if (statusOf(err) === 412 || statusOf(err) === 409) return false
      throw this.#fail(`write ${path}`, err)
    }
  }

  /**
   * A presigned GET URL for a path of the layout, valid `expiresInSeconds` (SigV4 caps it at 7 days;
   * with temporary credentials it also ends when they do). Signing is local: no request is made.
   */
  async presignGet(path: string, expiresInSeconds: number): Promise<string> {
    const { mod, client } = await this.#load()
    const { getSignedUrl } = await importOptional(S3_PRESIGNER_PACKAGE, () => import('@aws-sdk/s3-request-presigner'))
    try {
      return await getSignedUrl(client, new mod.GetObjectCommand({ Bucket: this.#cfg.bucket, Key: this.key(path) }), {
        expiresIn: Math.min(Math.max(1, Math.floor(expiresInSeconds)), 604_800),
      })
    } catch (err) {
      throw this.#fail(`sign a URL for ${path}`, err)
    }
  }

  async delete(path: string): Promise<void> {
    const { mod, client } = await this.#load()
    try {
      await client.send(new mod.DeleteObjectCommand({ Bucket: this.#cfg.bucket, Key: this.key(path) }))
    } catch (err) {
      if (isMissing(err)) return
      throw this.#fail(`delete ${path}`, err)
    }
  }

  /** Names directly under a folder of the layout (e.g. every `<key>.json` in `entries/`). */
  async list(folder: string): Promise<string[]> {
    const { mod, client } = await this.#load()
    const prefix = `${this.key(folder)}/`
    const names: string[] = []
    let token: string | undefined
    try {
      do {
        const out = await client.send(
          new mod.ListObjectsV2Command({ Bucket: this.#cfg.bucket, Prefix: prefix, ContinuationToken: token }),
        )
        for (const o of out.Contents ?? []) if (o.Key) names.push(o.Key.slice(prefix.length))
        token = out.IsTruncated ? out.NextContinuationToken : undefined
      } while (token)
    } catch (err) {
      throw this.#fail(`list ${folder}`, err)
    }
    return names
  }

  close(): void {
    void this.#sdk?.then(({ client }) => client.destroy()).catch(() => {})
  }

  #load(): Promise<{ mod: S3Module; client: S3Client }> {
    this.#sdk ??= loadSdk(this.#cfg, this.#timeouts)
    return this.#sdk
  }

  /** A cancelled download is the caller's abort, not a remote failure. */
  #fail(what: string, err: unknown, signal?: AbortSignal): unknown {
    if (signal?.aborted) return signal.reason
    if (err instanceof RemoteError || err instanceof VidspecError) return err
    const status = statusOf(err)
    const reason = err instanceof Error ? `${err.name !== 'Error' ? `${err.name}: ` : ''}${err.message || 'no message'}` : String(err)
    return new RemoteError(`${this.where}: could not ${what}: ${status ? `HTTP ${status} ` : ''}${reason}`, { cause: err, status })
  }
}

async function loadSdk(cfg: ResolvedRemote['s3'], timeouts: Required<BucketTimeouts>): Promise<{ mod: S3Module; client: S3Client }> {
  // The SDK warns in every process on Node < 22 about its future support; a build log is not the place for that.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const mod = await importOptional(S3_SDK_PACKAGE, () => import('@aws-sdk/client-s3'))
  const client = new mod.S3Client({
    region: cfg.region,
    ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
    forcePathStyle: cfg.forcePathStyle,
    maxAttempts: 2,
    // Integrity is checked end to end by the store's sha256; the SDK's extra checksums (aws-chunked
    // trailers) are not understood by every S3-compatible server.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: timeouts.connectionTimeoutMs, requestTimeout: timeouts.requestTimeoutMs },
  })
  return { mod, client }
}

/** The SDK packages are optional peers of @vidspec/core: only a project with a remote cache installs them. */
export const S3_SDK_PACKAGE = '@aws-sdk/client-s3'
export const S3_PRESIGNER_PACKAGE = '@aws-sdk/s3-request-presigner'

async function importOptional<T>(pkg: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (err) {
    const code = (err as { code?: unknown } | undefined)?.code
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((err as Error).message).includes(pkg)) {
      // Not a remote outage to warn about and work around: this project's setup is incomplete.
      throw new VidspecError(
        'CONFIG_INVALID',
        `the remote cache (remote.s3 in the vidspec config) needs the package ${pkg}, which is not installed.` +
          ` Install it in this project (npm install ${S3_SDK_PACKAGE} ${S3_PRESIGNER_PACKAGE}, or pnpm add / yarn add the same),` +
          ` or remove remote from the config to use the local store only.`,
        { cause: err },
      )
    }
    throw err
  }
}

function statusOf(err: unknown): number | undefined {
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
  return typeof meta?.httpStatusCode === 'number' ? meta.httpStatusCode : undefined
}

function isMissing(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name
  return statusOf(err) === 404 || name === 'NoSuchKey' || name === 'NotFound'
}

function isLocalFileError(err: unknown): boolean {
  const syscall = (err as { syscall?: unknown } | undefined)?.syscall
  return syscall === 'open' || syscall === 'write' || syscall === 'close'
}
