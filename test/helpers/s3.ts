import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'

/**
 * A real S3-protocol server for tests: s3rver 3.7.1 on 127.0.0.1, behind a small loopback proxy.
 *
 * Why the proxy: s3rver ignores `If-None-Match: *` (and `If-Match`) on PutObject; it only honours
 * If-None-Match on GET (src lib/controllers/object.js answers 304 there). Probed: two PutObject
 * calls with `IfNoneMatch: '*'` on one key both answer 200 and the second overwrites the first.
 * Nothing else installable here (npm, Debian) serves S3 with conditional writes, so the proxy gives
 * the guarantee that AWS S3 (since August 2024), Cloudflare R2 and MinIO give: a conditional PUT of
 * an existing key (or of a changed one, for If-Match) gets 412, decided atomically per key. Every
 * other request passes through untouched.
 */
export interface TestS3 {
  /** What to give vidspec: the proxy. */
  endpoint: string
  bucket: string
  /** AWS_* variables for a child process. */
  env: Record<string, string>
  /** A client straight to s3rver (no conditional layer), for setting up and inspecting the bucket. */
  client: S3Client
  /** Requests the proxy saw: method and object key (without the bucket). */
  readonly requests: Array<{ method: string; key: string; status: number }>
  /** Every object key in the bucket. */
  keys(): Promise<string[]>
  getText(key: string): Promise<string>
  put(key: string, body: string | Uint8Array): Promise<void>
  remove(key: string): Promise<void>
  /** The remote goes away: the proxy stops listening and drops every open connection. */
  goDown(): Promise<void>
  close(): Promise<void>
}

interface S3rverInstance {
  run(): Promise<AddressInfo>
  close(): Promise<void>
}
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance

const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }
// The SDK's notice about future Node versions is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

export async function startTestS3(bucket = 'vidspec-test'): Promise<TestS3> {
  const dir = await mkdtemp(join(tmpdir(), 'vidspec-s3-'))
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket }],
  })
  const { port: upstreamPort } = await s3rver.run()
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${upstreamPort}`,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: CREDENTIALS,
  })

  const requests: TestS3['requests'] = []
  const keyOf = (url: string | undefined): string => {
    const path = decodeURIComponent(new URL(url ?? '/', 'http://x').pathname)
    return path.slice(`/${bucket}/`.length)
  }
  const etagOf = async (key: string): Promise<string | undefined> => {
    try {
      return (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag?.replace(/"/g, '')
    } catch {
      return undefined
    }
  }
  // Per-key queue: the check and the write of one conditional PUT happen with no other PUT between.
  const queues = new Map<string, Promise<unknown>>()
  const serialized = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const run = (queues.get(key) ?? Promise.resolve()).then(fn, fn)
    queues.set(key, run.catch(() => {}))
    return run
  }

  const forward = (req: IncomingMessage, res: ServerResponse): Promise<number> =>
    new Promise((resolve) => {
      const up = request(
        { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers)
          upRes.pipe(res)
          upRes.on('end', () => resolve(upRes.statusCode ?? 502))
          upRes.on('error', () => resolve(502))
        },
      )
      up.on('error', () => {
        res.destroy()
        resolve(502)
      })
      req.pipe(up)
    })

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const key = keyOf(req.url)
    const noneMatch = req.headers['if-none-match']
    const ifMatch = req.headers['if-match']
    let status: number
    if (req.method === 'PUT' && (noneMatch === '*' || typeof ifMatch === 'string')) {
      status = await serialized(key, async () => {
        const current = await etagOf(key)
        const failed = noneMatch === '*' ? current !== undefined : current !== String(ifMatch).replace(/"/g, '')
        if (!failed) return forward(req, res)
        req.resume()
        res.writeHead(412, { 'content-type': 'application/xml' })
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
            `<Message>At least one of the pre-conditions you specified did not hold</Message><Condition>${noneMatch === '*' ? 'If-None-Match' : 'If-Match'}</Condition></Error>`,
        )
        return 412
      })
    } else {
      status = await forward(req, res)
    }
    requests.push({ method: req.method ?? '', key, status })
  }

  const sockets = new Set<Socket>()
  const proxy: Server = createServer((req, res) => void handle(req, res))
  proxy.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const { port } = proxy.address() as AddressInfo
  let proxyOpen = true
  const stopProxy = async (): Promise<void> => {
    if (!proxyOpen) return
    proxyOpen = false
    const closed = new Promise<void>((resolve) => proxy.close(() => resolve()))
    for (const s of sockets) s.destroy()
    await closed
  }

  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    env: {
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    client,
    requests,
    async keys() {
      const out: string[] = []
      let token: string | undefined
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }))
        for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key)
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
      return out.sort()
    },
    async getText(key) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      return (await out.Body?.transformToString('utf8')) ?? ''
    },
    async put(key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
    },
    async remove(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
    },
    goDown: stopProxy,
    async close() {
      await stopProxy()
      client.destroy()
      await s3rver.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
