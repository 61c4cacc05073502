import { createServer, type ServerResponse } from 'node:http'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VidspecError } from '../errors.js'
import { downloadToFile, redactUrl } from './download.js'

const BODY = Buffer.alloc(64 * 1024, 7)
type Handler = (res: ServerResponse) => void | Promise<void>
const routes = new Map<string, Handler>()
const server = createServer((req, res) => {
  const handler = routes.get(new URL(req.url ?? '/', 'http://x').pathname)
  if (handler) void handler(res)
  else res.writeHead(404).end()
})
let base: string
let dir: string

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  dir = await mkdtemp(join(tmpdir(), 'download-test-'))
  routes.set('/ok', (res) => {
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': BODY.length }).end(BODY)
  })
  routes.set('/short', (res) => {
    res.writeHead(200, { 'content-length': BODY.length, connection: 'close' })
    res.end(BODY.subarray(0, 1000))
  })
  routes.set('/chunked', (res) => {
    // No Content-Length: the transfer cannot say whether it ended early; the caller must check the clip.
    res.writeHead(200, { 'content-type': 'video/mp4' })
    res.write(BODY.subarray(0, 1000))
    res.end()
  })
  routes.set('/denied', (res) => {
    res.writeHead(403).end('expired')
  })
  routes.set('/stall', (res) => {
    res.writeHead(200, { 'content-length': BODY.length })
    res.write(BODY.subarray(0, 1000))
  })
  routes.set('/trickle', async (res) => {
    res.writeHead(200, { 'content-length': BODY.length })
    for (let at = 0; at < BODY.length; at += 8192) {
      res.write(BODY.subarray(at, at + 8192))
      await pause(40)
    }
    res.end()
  })
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

const target = (name: string) => join(dir, `${name}-${Math.random().toString(36).slice(2)}.mp4`)
const failure = (p: Promise<unknown>) => p.then(() => expect.unreachable(), (err: VidspecError) => err)

describe('downloadToFile', () => {
  it('streams the body to the file and reports its size and type', async () => {
    const file = target('ok')
    const digest = createHash('sha256').update(BODY).digest('hex')
    expect(await downloadToFile(`${base}/ok`, file)).toEqual({ bytes: BODY.length, digest, synced: false, contentType: 'video/mp4', lengthKnown: true })
    expect((await readFile(file)).equals(BODY)).toBe(true)
  })

  it('fsyncs the file before closing it when asked, and says so', async () => {
    const file = target('durable')
    expect(await downloadToFile(`${base}/ok`, file, { durable: true })).toMatchObject({ bytes: BODY.length, synced: true })
    expect((await readFile(file)).equals(BODY)).toBe(true)
  })

  it('says when there was no Content-Length to check the end against', async () => {
    const file = target('chunked')
    const digest = createHash('sha256').update(BODY.subarray(0, 1000)).digest('hex')
    expect(await downloadToFile(`${base}/chunked`, file)).toEqual({ bytes: 1000, digest, synced: false, contentType: 'video/mp4', lengthKnown: false })
  })

  it('a body shorter than Content-Length fails, retryable, and leaves no file', async () => {
    const file = target('short')
    const err = await failure(downloadToFile(`${base}/short`, file))
    expect(err).toMatchObject({ code: 'DOWNLOAD_FAILED', retryable: true })
    expect(existsSync(file)).toBe(false)
  })

  it('an HTTP error names the status and the URL without its signed query', async () => {
    const err = await failure(downloadToFile(`${base}/denied?X-Amz-Signature=secret`, target('denied')))
    expect(err).toMatchObject({ code: 'DOWNLOAD_FAILED', status: 403, retryable: true })
    expect(err.message).toContain(`HTTP 403 from ${base}/denied`)
    expect(err.message).not.toContain('secret')
  })

  it('a transfer that stalls ends after the idle timeout, leaving no file', async () => {
    const file = target('stall')
    const started = Date.now()
    const err = await failure(downloadToFile(`${base}/stall`, file, { idleTimeoutMs: 150 }))
    expect(err).toMatchObject({ code: 'DOWNLOAD_FAILED', retryable: true })
    expect(err.message).toMatch(/after 1000 bytes: no data for/)
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(existsSync(file)).toBe(false)
  })

  it('a slow transfer that keeps making progress may take longer than the idle timeout in all', async () => {
    const file = target('trickle')
    const started = Date.now()
    expect((await downloadToFile(`${base}/trickle`, file, { idleTimeoutMs: 150 })).bytes).toBe(BODY.length)
    expect(Date.now() - started).toBeGreaterThan(150)
  })

  it('cancellation is ABORTED, not a retryable failure, and leaves no file', async () => {
    const file = target('abort')
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    const err = await failure(downloadToFile(`${base}/stall`, file, { signal: controller.signal }))
    expect(err.code).toBe('ABORTED')
    expect(existsSync(file)).toBe(false)
  })
})

it('redactUrl keeps origin and path only', () => {
  expect(redactUrl('https://cdn.example/v/a.mp4?sig=1#x')).toBe('https://cdn.example/v/a.mp4')
  expect(redactUrl('not a url')).toBe('(invalid URL)')
})
