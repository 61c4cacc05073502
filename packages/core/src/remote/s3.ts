import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import type { S3Client } from '@aws-sdk/client-s3'
import { VidspecError } from '../errors.js'
import { backoffDelay, sleep, type RetryPolicy } from '../runner/retry.js'
import type { ResolvedRemote } from './config.js'
import { RemoteError, classify, isLocalFileError, isMissing, isNoBucket, statusOf } from './errors.js'

export { RemoteError } from './errors.js'

type S3Module = typeof import('@aws-sdk/client-s3')

/** What the bucket said about one object: its version (ETag) and its age by the bucket's own clock. */
export interface ObjectMeta {
  etag: string | undefined
  /** When the bucket last wrote it (its clock). */
  lastModified: Date | undefined
  /** The bucket's clock when it answered (the response's Date header). */
  date: Date | undefined
}

export interface HeadResult extends ObjectMeta {
  size: number
}

/** A small JSON object read whole. `value` is undefined when its bytes are not JSON (a known-bad object). */
export interface JsonRead extends ObjectMeta {
  parsed: boolean
  value: unknown
}

export interface BucketTimeouts {
  /** Opening a connection. @default 5000 */
  connectionTimeoutMs?: number
  /** One request, from sending to the last byte of a small answer; also the longest silence in a download. @default 30000 */
  requestTimeoutMs?: number
  /** A download slower than this on average is ended (a dripping body). @default 64 KiB/s */
  minBytesPerSecond?: number
}

/** Bigger than any entry or claim record: a body past this is not one. */
const MAX_JSON_BYTES = 1 << 20

const NO_RETRY: RetryPolicy = { retries: 0, minDelayMs: 0, maxDelayMs: 0 }

/** One try only, within `timeoutMs` when given (for a heartbeat, or a last write while the process stops). */
export interface Quick {
  once?: boolean
  timeoutMs?: number
}

/**
 * One bucket and prefix, spoken to through the AWS SDK. The SDK is loaded on first use: most
 * commands never touch the remote, and it costs a noticeable part of the CLI's start.
 *
 * Every request is bounded here, not by the SDK's own timeouts (which only cover the wait for the
 * headers, and only warn): each attempt runs under a deadline that also cuts the body, and a
 * download stops the moment it passes the size it was asked for. A request that failed for a
 * reason that may pass (timeout, reset, 5xx) is tried again with backoff; `kind: 'down'` failures
 * (refused, DNS, credentials refused) are not.
 */
export class S3Bucket {
  readonly #cfg: ResolvedRemote['s3']
  readonly #timeouts: Required<BucketTimeouts>
  readonly #retry: RetryPolicy
  #sdk: Promise<{ mod: S3Module; client: S3Client }> | undefined

  constructor(cfg: ResolvedRemote['s3'], timeouts: BucketTimeouts = {}, retry: RetryPolicy = { retries: 3, minDelayMs: 200, maxDelayMs: 2000 }) {
    this.#cfg = cfg
    this.#timeouts = { connectionTimeoutMs: 5000, requestTimeoutMs: 30_000, minBytesPerSecond: 64 * 1024, ...timeouts }
    this.#retry = retry
  }

  /** `s3://bucket/prefix`, for messages. */
  get where(): string {
    return `s3://${this.#cfg.bucket}${this.#cfg.prefix ? `/${this.#cfg.prefix}` : ''}`
  }

  /** The object key of a path in the store's layout (`entries/<key>.json`, `objects/<digest>.<ext>`). */
  key(path: string): string {
    return this.#cfg.prefix ? `${this.#cfg.prefix}/${path}` : path
  }

  /** A small JSON object, or undefined when there is none. */
  async getJson(path: string, signal?: AbortSignal, opts: Quick = {}): Promise<JsonRead | undefined> {
    return this.#retrying(`read ${path}`, signal, opts.once, async (s, meta) => {
      const { mod, client } = await this.#load()
      let out
      try {
        out = await client.send(this.#dated(new mod.GetObjectCommand({ Bucket: this.#cfg.bucket, Key: this.key(path) }), meta), { abortSignal: s })
      } catch (err) {
        if (isMissing(err)) return undefined
        throw err
      }
      const text = await readCapped(out.Body as Readable, out.ContentLength, s)
      const base = { etag: out.ETag, lastModified: out.LastModified, date: meta.date }
      try {
        return { ...base, parsed: true, value: JSON.parse(text) as unknown }
      } catch {
        return { ...base, parsed: false, value: undefined }
      }
    }, opts.timeoutMs)
  }

  /**
   * Streams an object to `file`, hashing it on the way; undefined when there is no such object.
   * Stops with a RemoteError as soon as more than `maxBytes` arrive.
   */
  async download(path: string, file: string, maxBytes: number, signal?: AbortSignal): Promise<{ digest: string; size: number } | undefined> {
    const { requestTimeoutMs, minBytesPerSecond } = this.#timeouts
    const deadlineMs = requestTimeoutMs + Math.ceil((maxBytes / minBytesPerSecond) * 1000)
    return this.#retrying(`download ${path}`, signal, false, async (s, meta) => {
      const { mod, client } = await this.#load()
      let body: Readable
      try {
        const out = await client.send(this.#dated(new mod.GetObjectCommand({ Bucket: this.#cfg.bucket, Key: this.key(path) }), meta), { abortSignal: s })
        body = out.Body as Readable
        if (out.ContentLength !== undefined && out.ContentLength > maxBytes) {
          body.destroy()
          throw new RemoteError(`${this.where}: ${path} is ${out.ContentLength} bytes, more than its entry's ${maxBytes}`, { kind: 'failed' })
        }
      } catch (err) {
        if (isMissing(err)) return undefined
        throw err
      }
      return streamCapped(body, file, maxBytes, s, this.where, path)
    }, deadlineMs)
  }

  async head(path: string, signal?: AbortSignal): Promise<HeadResult | undefined> {
    return this.#retrying(`check ${path}`, signal, false, async (s, meta) => {
      const { mod, client } = await this.#load()
      try {
        const out = await client.send(this.#dated(new mod.HeadObjectCommand({ Bucket: this.#cfg.bucket, Key: this.key(path) }), meta), { abortSignal: s })
        return { etag: out.ETag, size: out.ContentLength ?? 0, lastModified: out.LastModified, date: meta.date }
      } catch (err) {
        if (isMissing(err)) return undefined
        throw err
      }
    })
  }

  async putFile(path: string, file: string, contentType: string, signal?: AbortSignal): Promise<void> {
    const { size } = await stat(file)
    const { requestTimeoutMs, minBytesPerSecond } = this.#timeouts
    await this.#retrying(`upload ${path}`, signal, false, async (s) => {
      const { mod, client } = await this.#load()
      await client.send(
        new mod.PutObjectCommand({ Bucket: this.#cfg.bucket, Key: this.key(path), Body: createReadStream(file), ContentLength: size, ContentType: contentType }),
        { abortSignal: s },
      )
    }, requestTimeoutMs + Math.ceil((size / minBytesPerSecond) * 1000))
  }

  /**
   * Writes a small JSON object. With `ifNoneMatch` the write only happens when no object is there
   * (with `ifMatch`, only over that exact version). Resolves to the new version's ETag ('' when the
   * bucket sent none), or false when the condition failed (HTTP 412/409). A conditional write that
   * is retried after a lost answer may report false although the first try landed: callers check.
   */
  async putJson(path: string, value: unknown, cond: { ifNoneMatch?: boolean; ifMatch?: string } & Quick = {}, signal?: AbortSignal): Promise<string | false> {
    return this.#retrying(`write ${path}`, signal, cond.once, async (s) => {
      const { mod, client } = await this.#load()
      try {
        const out = await client.send(
          new mod.PutObjectCommand({
            Bucket: this.#cfg.bucket,
            Key: this.key(path),
            Body: `${JSON.stringify(value, null, 2)}\n`,
            ContentType: 'application/json',
            ...(cond.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
            ...(cond.ifMatch ? { IfMatch: cond.ifMatch } : {}),
          }),
          { abortSignal: s },
        )
        return out.ETag ?? ''
      } catch (err) {
        // 409 ConditionalRequestConflict: a concurrent conditional write to the same key won.
        if (statusOf(err) === 412 || statusOf(err) === 409) return false
        throw err
      }
    }, cond.timeoutMs)
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
      if (err instanceof VidspecError) throw err
      throw this.#fail(`sign a URL for ${path}`, err)
    }
  }

  async delete(path: string, signal?: AbortSignal, opts: Quick = {}): Promise<void> {
    await this.#retrying(`delete ${path}`, signal, opts.once, async (s) => {
      const { mod, client } = await this.#load()
      try {
        await client.send(new mod.DeleteObjectCommand({ Bucket: this.#cfg.bucket, Key: this.key(path) }), { abortSignal: s })
      } catch (err) {
        if (!isMissing(err)) throw err
      }
    }, opts.timeoutMs)
  }

  /** Names directly under a folder of the layout (e.g. every `<key>.json` in `entries/`). */
  async list(folder: string, signal?: AbortSignal): Promise<string[]> {
    const prefix = `${this.key(folder)}/`
    const names: string[] = []
    let token: string | undefined
    do {
      const page = await this.#retrying(`list ${folder}`, signal, false, async (s) => {
        const { mod, client } = await this.#load()
        return client.send(new mod.ListObjectsV2Command({ Bucket: this.#cfg.bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: s })
      })
      for (const o of page.Contents ?? []) if (o.Key) names.push(o.Key.slice(prefix.length))
      const next = page.IsTruncated ? page.NextContinuationToken : undefined
      // A bucket that hands back the same page token (or an empty page forever) ends the listing.
      if (next && (next === token || !page.Contents?.length)) throw new RemoteError(`${this.where}: could not list ${folder}: the listing does not advance`, { kind: 'failed', final: true })
      token = next
    } while (token)
    return names
  }

  close(): void {
    void this.#sdk?.then(({ client }) => client.destroy()).catch(() => {})
  }

  #load(): Promise<{ mod: S3Module; client: S3Client }> {
    this.#sdk ??= loadSdk(this.#cfg, this.#timeouts)
    return this.#sdk
  }

  /** Records the bucket's Date header of the answer: the clock a claim's age is judged by. */
  #dated<C extends { middlewareStack: { add(mw: unknown, opts: unknown): void } }>(command: C, meta: { date?: Date | undefined }): C {
    command.middlewareStack.add(
      (next: (args: unknown) => Promise<{ response: { headers?: Record<string, string> } }>) => async (args: unknown) => {
        const result = await next(args)
        const raw = result.response.headers?.date
        const date = raw ? new Date(raw) : undefined
        meta.date = date && !Number.isNaN(date.getTime()) ? date : undefined
        return result
      },
      { step: 'deserialize', name: 'vidspecBucketDate', override: true },
    )
    return command
  }

  /**
   * Runs `fn` under a deadline (the caller's abort still wins), retrying failures that may pass.
   * Every attempt gets its own signal, so a timed-out attempt's sockets and body are cut.
   */
  async #retrying<T>(
    what: string,
    signal: AbortSignal | undefined,
    once: boolean | undefined,
    fn: (signal: AbortSignal, meta: { date?: Date | undefined }) => Promise<T>,
    deadline?: number,
  ): Promise<T> {
    const deadlineMs = deadline ?? this.#timeouts.requestTimeoutMs
    const policy = once ? NO_RETRY : this.#retry
    for (let attempt = 0; ; attempt++) {
      const ctl = new AbortController()
      const timer = setTimeout(() => ctl.abort(new RemoteError(`timed out after ${deadlineMs} ms`, { kind: 'failed' })), deadlineMs)
      const onAbort = () => ctl.abort(signal?.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        return await fn(ctl.signal, {})
      } catch (err) {
        if (signal?.aborted) throw signal.reason
        // A full local disk, or a project without the SDK installed: not the remote's failure.
        if (isLocalFileError(err) || err instanceof VidspecError) throw err
        const failure = this.#fail(what, ctl.signal.aborted ? ctl.signal.reason : err)
        if (failure.kind === 'down' || failure.final || attempt >= policy.retries) throw failure
        await sleep(backoffDelay(attempt, policy), signal)
      } finally {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
    }
  }

  #fail(what: string, err: unknown): RemoteError {
    if (err instanceof RemoteError && err.message.startsWith(this.where)) return err
    const status = statusOf(err)
    const reason = err instanceof Error ? `${err.name !== 'Error' ? `${err.name}: ` : ''}${err.message || 'no message'}` : String(err)
    const { kind, final } = isNoBucket(err) ? { kind: 'down' as const, final: true } : classify(err)
    return new RemoteError(`${this.where}: could not ${what}: ${status ? `HTTP ${status} ` : ''}${reason}`, { cause: err, status, kind, final })
  }
}

/** Destroys `body` when `signal` aborts (at once if it already has); returns the listener's removal. */
function destroyOnAbort(body: Readable, signal: AbortSignal): () => void {
  const onAbort = () => body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
  if (signal.aborted) onAbort()
  signal.addEventListener('abort', onAbort, { once: true })
  return () => signal.removeEventListener('abort', onAbort)
}

/** Reads a small body whole, refusing one that goes past MAX_JSON_BYTES or ends short of its Content-Length. */
async function readCapped(body: Readable | undefined, length: number | undefined, signal: AbortSignal): Promise<string> {
  if (!body) return ''
  const chunks: Buffer[] = []
  let size = 0
  const stopOnAbort = destroyOnAbort(body, signal)
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > MAX_JSON_BYTES) {
        body.destroy()
        throw new RemoteError(`a record of more than ${MAX_JSON_BYTES} bytes`, { kind: 'failed' })
      }
      chunks.push(chunk)
    }
  } finally {
    stopOnAbort()
  }
  // A cut connection is a failed read, not an unparseable record.
  if (length !== undefined && size !== length) throw new RemoteError(`the answer ended after ${size} of ${length} bytes`, { kind: 'failed' })
  return Buffer.concat(chunks).toString('utf8')
}

async function streamCapped(body: Readable, file: string, maxBytes: number, signal: AbortSignal, where: string, path: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256')
  const out = createWriteStream(file)
  let size = 0
  const stopOnAbort = destroyOnAbort(body, signal)
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > maxBytes) {
        body.destroy()
        throw new RemoteError(`${where}: ${path} sent more than its entry's ${maxBytes} bytes; stopped`, { kind: 'failed' })
      }
      hash.update(chunk)
      if (!out.write(chunk)) await new Promise<void>((resolve, reject) => out.once('drain', resolve).once('error', reject))
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
  } catch (err) {
    out.destroy()
    throw err
  } finally {
    stopOnAbort()
  }
  return { digest: hash.digest('hex'), size }
}

async function loadSdk(cfg: ResolvedRemote['s3'], timeouts: Required<BucketTimeouts>): Promise<{ mod: S3Module; client: S3Client }> {
  // The SDK warns in every process on Node < 22 about its future support; a build log is not the place for that.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const mod = await importOptional(S3_SDK_PACKAGE, () => import('@aws-sdk/client-s3'))
  const client = new mod.S3Client({
    region: cfg.region,
    ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
    forcePathStyle: cfg.forcePathStyle,
    // Retries are ours (S3Bucket#retrying), with the caller's bounds and abort.
    maxAttempts: 1,
    // Integrity is checked end to end by the store's sha256; the SDK's extra checksums (aws-chunked
    // trailers) are not understood by every S3-compatible server.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: timeouts.connectionTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      socketTimeout: timeouts.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
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
