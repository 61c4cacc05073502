import { mkdtemp, rm } from 'node:fs/promises'
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
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
import type { TempProject } from './project.js'
import { FAST, spawnCli, togetherProject, type CliChild } from './together.js'

/**
 * A real S3-protocol server for tests: s3rver 3.7.1 on 127.0.0.1, behind a small loopback proxy.
 *
 * Why the proxy: s3rver ignores `If-None-Match: *` (and `If-Match`) on PutObject; it only honours
 * If-None-Match on GET (src lib/controllers/object.js answers 304 there). Probed: two PutObject
 * calls with `IfNoneMatch: '*'` on one key both answer 200 and the second overwrites the first.
 * Nothing else installable here (npm, Debian) serves S3 with conditional writes, so the proxy gives
 * the guarantee that AWS S3 (since August 2024), Cloudflare R2 and MinIO give: a conditional PUT of
 * an existing key (or of a changed one, for If-Match) gets 412, decided atomically per key. It also
 * gives S3's atomic objects, which s3rver (writing files in place) does not: one request of a key at a
 * time, and an upload is stored only once its whole body has arrived. Every request passes through
 * otherwise untouched, unless a fault (`fault()`) says otherwise: the proxy is also where a test makes
 * the bucket misbehave at an exact request.
 */

/** Which requests a fault hits: method and object key (without the bucket; a string is a substring). */
export interface S3FaultMatch {
  method?: 'GET' | 'HEAD' | 'PUT' | 'DELETE'
  key?: string | RegExp
  /** How many matching requests it hits. @default 1 (Infinity: until clearFaults()) */
  times?: number
}

export type S3Fault = S3FaultMatch &
  (
    /** An S3 error answer with this status; the request never reaches the bucket. */
    | { kind: 'status'; status: number }
    /** The socket is destroyed before any answer; the request never reaches the bucket. */
    | { kind: 'cut' }
    /** The request is read and never answered (until the client gives up or the proxy closes). */
    | { kind: 'silent' }
    /** 200 and a body that never ends (chunked, no length). */
    | { kind: 'endless' }
    /** The real answer, its body sent `bytes` (default 1) every `everyMs`. */
    | { kind: 'drip'; everyMs: number; bytes?: number }
    /** The real answer with these headers replaced (null: removed), e.g. a lying ETag or an old Last-Modified. */
    | { kind: 'headers'; set: Record<string, string | null> }
  )
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
  /** Makes matching requests misbehave (first added, first used). */
  fault(fault: S3Fault): void
  clearFaults(): void
  /** Faults that hit, in order. */
  readonly fired: Array<{ kind: S3Fault['kind']; method: string; key: string }>
  /** Bytes sent by `endless` faults. */
  endlessBytes(): number
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
  // Per-key queue: one request of a key reaches s3rver at a time.
  const queues = new Map<string, Promise<unknown>>()
  const serialized = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const run = (queues.get(key) ?? Promise.resolve()).then(fn, fn)
    // However a request ends (or hangs), the next one of the key gets its turn within seconds.
    const turn = Promise.race([run, new Promise((resolve) => setTimeout(resolve, 10_000).unref())])
    queues.set(key, turn.catch(() => {}))
    return run
  }

  // Its own agent, so closing the harness closes every connection to s3rver (the global one keeps them alive).
  const upstreamAgent = new Agent({ keepAlive: false })
  const faults: Array<{ fault: S3Fault; left: number }> = []
  const fired: TestS3['fired'] = []
  let endless = 0
  const takeFault = (method: string, key: string): S3Fault | undefined => {
    const i = faults.findIndex(({ fault: f }) => {
      if (f.method && f.method !== method) return false
      if (f.key === undefined) return true
      return typeof f.key === 'string' ? key.includes(f.key) : f.key.test(key)
    })
    const hit = faults[i]
    if (!hit) return undefined
    if (--hit.left <= 0) faults.splice(i, 1)
    fired.push({ kind: hit.fault.kind, method, key })
    return hit.fault
  }

  /**
   * Sends a request on to s3rver, its body already whole. `status` settles when the client's answer
   * is over; `upstream` when s3rver has answered in full, which is how long it holds its key: s3rver
   * writes objects in place and opens an object's file only after it has read its metadata, so a
   * request must never be cut short at s3rver when its client leaves (a DELETE let through meanwhile
   * makes that late open fail, uncaught, inside s3rver). S3 stores all of an upload whose body
   * arrived whatever its client does next; a reader that left is simply not answered.
   */
  const forward = (req: IncomingMessage, res: ServerResponse, fault: S3Fault | undefined, body: Buffer): { status: Promise<number>; upstream: Promise<void> } => {
    let upstreamDone!: () => void
    const upstream = new Promise<void>((resolve) => (upstreamDone = resolve))
    const status = new Promise<number>((resolve) => {
      // The client gave up while this request waited in its key's queue: nothing to forward, unless
      // it is an upload that arrived whole.
      if (req.method !== 'PUT' && (res.destroyed || req.socket.destroyed)) {
        upstreamDone()
        return resolve(-1)
      }
      const up = request(
        { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent: upstreamAgent },
        (upRes) => {
          upRes.on('end', upstreamDone)
          upRes.on('error', upstreamDone)
          upRes.on('close', upstreamDone)
          const status = upRes.statusCode ?? 502
          const headers = { ...upRes.headers }
          if (fault?.kind === 'headers') {
            for (const [name, value] of Object.entries(fault.set)) {
              if (value === null) delete headers[name]
              else headers[name] = value
            }
          }
          if (fault?.kind === 'drip') {
            const chunks: Buffer[] = []
            upRes.on('data', (c: Buffer) => chunks.push(c))
            upRes.on('end', () => {
              const body = Buffer.concat(chunks)
              res.writeHead(status, headers)
              let at = 0
              const timer = setInterval(() => {
                if (res.destroyed || at >= body.length) {
                  clearInterval(timer)
                  if (!res.destroyed) res.end()
                  return resolve(status)
                }
                res.write(body.subarray(at, at + (fault.bytes ?? 1)))
                at += fault.bytes ?? 1
              }, fault.everyMs)
              res.on('close', () => {
                clearInterval(timer)
                resolve(status)
              })
            })
            return
          }
          if (res.destroyed) {
            upRes.resume()
            return resolve(status)
          }
          res.writeHead(status, headers)
          upRes.pipe(res)
          // A client that went away is no longer read for: the rest of the answer drains.
          res.on('close', () => {
            upRes.resume()
            resolve(status)
          })
          upRes.on('end', () => resolve(status))
          upRes.on('error', () => resolve(502))
        },
      )
      up.on('error', () => {
        upstreamDone()
        res.destroy()
        resolve(502)
      })
      res.on('close', () => resolve(502))
      up.end(body)
    })
    return { status, upstream }
  }

  /** A request's whole body; undefined when its client went away before sending all of it. */
  const bodyOf = (req: IncomingMessage): Promise<Buffer | undefined> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => resolve(Buffer.concat(chunks)))
      req.on('error', () => resolve(undefined))
      req.on('close', () => {
        if (!req.complete) resolve(undefined)
      })
    })

  /** A fault that answers instead of the bucket; undefined when the request still goes on. */
  const misbehave = (fault: S3Fault, req: IncomingMessage, res: ServerResponse): Promise<number> | undefined => {
    switch (fault.kind) {
      case 'status':
        req.resume()
        res.writeHead(fault.status, { 'content-type': 'application/xml' })
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code><Message>injected ${fault.status}</Message></Error>`)
        return Promise.resolve(fault.status)
      case 'cut':
        req.resume()
        req.socket.destroy()
        return Promise.resolve(-1)
      case 'silent':
        req.resume()
        return Promise.resolve(-1)
      case 'endless': {
        req.resume()
        res.writeHead(200, { 'content-type': 'application/octet-stream', etag: '"endless"', 'last-modified': new Date().toUTCString() })
        const chunk = Buffer.alloc(64 * 1024, 0x41)
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk)) endless += chunk.length
          if (!res.destroyed) res.once('drain', pump)
        }
        pump()
        return new Promise((resolve) => res.on('close', () => resolve(200)))
      }
      default:
        return undefined
    }
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const key = keyOf(req.url)
    const fault = takeFault(req.method ?? '', key)
    const answered = fault ? misbehave(fault, req, res) : undefined
    if (answered) {
      requests.push({ method: req.method ?? '', key, status: await answered })
      return
    }
    // S3 acts on a request only once its body is whole: a cut upload stores nothing.
    const body = await bodyOf(req)
    if (!body) {
      requests.push({ method: req.method ?? '', key, status: -1 })
      return
    }
    const noneMatch = req.headers['if-none-match']
    const ifMatch = req.headers['if-match']
    const conditional = req.method === 'PUT' && (noneMatch === '*' || typeof ifMatch === 'string')
    // Every request of a key takes its turn: S3 never shows a half-written object, nor lets a write
    // land between a conditional PUT's check and its write.
    let answer: Promise<number> = Promise.resolve(-1)
    await serialized(key, async () => {
      if (conditional) {
        const current = await etagOf(key)
        const failed = noneMatch === '*' ? current !== undefined : current !== String(ifMatch).replace(/"/g, '')
        if (failed) {
          res.writeHead(412, { 'content-type': 'application/xml' })
          res.end(
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
              `<Message>At least one of the pre-conditions you specified did not hold</Message><Condition>${noneMatch === '*' ? 'If-None-Match' : 'If-Match'}</Condition></Error>`,
          )
          answer = Promise.resolve(412)
          return
        }
      }
      const sent = forward(req, res, fault, body)
      answer = sent.status
      await sent.upstream
    })
    requests.push({ method: req.method ?? '', key, status: await answer })
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
    fault(fault) {
      const left = fault.times ?? 1
      if (!(left > 0)) throw new Error(`fault ${fault.kind}: times must be positive`)
      faults.push({ fault, left })
    },
    clearFaults() {
      faults.length = 0
    },
    fired,
    endlessBytes: () => endless,
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
    // s3rver writes an object in place, so a read during a write could see part of it (S3 never shows
    // a half-written object): a test's read takes its turn with the key's requests through the proxy.
    getText(key) {
      return serialized(key, async () => {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
        return (await out.Body?.transformToString('utf8')) ?? ''
      })
    },
    // A test's own writes take their turn too: a delete between s3rver's reading an object's
    // metadata and opening its file is an uncaught ENOENT inside s3rver.
    async put(key, body) {
      await serialized(key, () => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })))
    },
    async remove(key) {
      await serialized(key, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })))
    },
    goDown: stopProxy,
    async close() {
      await stopProxy()
      upstreamAgent.destroy()
      client.destroy()
      await s3rver.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Machines sharing one bucket, for CLI tests: each is its own project copy with its own store.
 * Short leases and timeouts keep the tests fast; every child is stopped and every copy removed by `dispose`.
 */
export interface SharedBucketRig {
  /** A project of `specs` Together specs configured for the bucket (plus `extra` merged into its config). */
  machine(specs: number, extra?: { together?: object; jobs?: object; remote?: object }): Promise<TempProject>
  /** `vidspec <command> --json` in `p`, with the bucket's credentials, the fake's key and paid generation allowed. */
  cli(p: TempProject, args: string[], env?: Record<string, string | undefined>): CliChild
  dispose(): Promise<void>
}

/**
 * Short, but with room for a loaded machine: a heartbeat delayed a few seconds must not look dead.
 * (At 3 s, one full-suite run on 2 cores saw a survivor's fresh claim go stale while the S3 server
 * was busy, and a second survivor take it over: legitimate for the protocol, not what the tests check.)
 */
export const TEST_LEASE = { heartbeatMs: 100, staleMs: 5_000, waitMs: 60_000 } as const

export function sharedBucketRig(s3: TestS3, fake: { baseURL: string }, apiKey: string): SharedBucketRig {
  const projects: TempProject[] = []
  const children: CliChild[] = []
  return {
    async machine(specs, extra = {}) {
      const config = {
        ...FAST,
        together: { ...FAST.together, ...extra.together },
        jobs: { ...FAST.jobs, ...extra.jobs },
        remote: { s3: { bucket: s3.bucket, endpoint: s3.endpoint, forcePathStyle: true }, lease: TEST_LEASE, requestTimeoutMs: 5_000, ...extra.remote },
      }
      const p = await togetherProject(specs, config)
      projects.push(p)
      return p
    },
    cli(p, args, env = {}) {
      const child = spawnCli(args, {
        cwd: p.root,
        env: { TOGETHER_API_KEY: apiKey, TOGETHER_BASE_URL: fake.baseURL, CI: undefined, ...s3.env, ...env },
      })
      children.push(child)
      return child
    },
    async dispose() {
      await Promise.all(children.splice(0).map((c) => c.stop()))
      await Promise.all(projects.splice(0).map((p) => p.dispose()))
    },
  }
}
