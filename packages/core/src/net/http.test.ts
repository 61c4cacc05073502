import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HttpError, discard, httpRequest, readBody, readText } from './http.js'

type Route = (req: IncomingMessage, res: ServerResponse) => void
const routes = new Map<string, Route>()
const seen: Array<{ server: 'a' | 'b'; path: string; auth: string | undefined; other: string | undefined }> = []
const sockets = new Set<string>()
let a: Server
let b: Server
let baseA: string
let baseB: string

function serve(name: 'a' | 'b'): Server {
  return createServer((req, res) => {
    const path = req.url ?? '/'
    seen.push({ server: name, path, auth: req.headers.authorization, other: req.headers['x-other'] as string | undefined })
    sockets.add(`${req.socket.remotePort}`)
    const route = routes.get(`${name}${path.split('?')[0]}`)
    if (route) route(req, res)
    else res.writeHead(404).end('no such route')
  })
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

beforeAll(async () => {
  a = serve('a')
  b = serve('b')
  baseA = await listen(a)
  baseB = await listen(b)
  routes.set('a/json', (_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['x=1', 'y=2'] }).end('{"ok":true}'))
  routes.set('a/moved', (_req, res) => res.writeHead(302, { location: '/json' }).end('moved'))
  routes.set('a/away', (_req, res) => res.writeHead(307, { location: `${baseB}/landing?sig=1` }).end())
  routes.set('b/landing', (_req, res) => res.writeHead(200).end('landed'))
  routes.set('a/loop', (_req, res) => res.writeHead(301, { location: '/loop' }).end())
  routes.set('a/ftp', (_req, res) => res.writeHead(302, { location: 'ftp://example.test/x' }).end())
  routes.set('a/cut', (_req, res) => {
    res.writeHead(200, { 'content-length': '100' })
    res.write('only part of it')
    setTimeout(() => res.socket?.destroy(), 20)
  })
  routes.set('a/hang', () => {})
})

afterAll(async () => {
  for (const server of [a, b]) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

describe('httpRequest', () => {
  it('answers with the status, headers (repeated ones joined) and the body, and reuses its socket', async () => {
    sockets.clear()
    for (let i = 0; i < 3; i++) {
      const res = await httpRequest(`${baseA}/json`, { headers: { authorization: 'Bearer k' } })
      expect(res.status).toBe(200)
      expect(res.header('content-type')).toBe('application/json')
      expect(res.header('set-cookie')).toBe('x=1, y=2')
      expect(res.header('x-missing')).toBeUndefined()
      expect(JSON.parse(await readText(res.body))).toEqual({ ok: true })
    }
    expect(sockets.size).toBe(1)
  })

  it('answers a redirect as is unless told to follow it', async () => {
    const res = await httpRequest(`${baseA}/moved`)
    expect([res.status, res.header('location')]).toEqual([302, '/json'])
    discard(res.body)
    const followed = await httpRequest(`${baseA}/moved`, { followRedirects: true })
    expect([followed.status, followed.url]).toEqual([200, `${baseA}/json`])
    await readText(followed.body)
  })

  it('keeps the credentials on a same-origin redirect and drops them on a cross-origin one, keeping other headers', async () => {
    seen.length = 0
    await readText((await httpRequest(`${baseA}/moved`, { headers: { Authorization: 'Bearer k', 'x-other': '1' }, followRedirects: true })).body)
    await readText((await httpRequest(`${baseA}/away`, { headers: { Authorization: 'Bearer k', 'x-other': '1' }, followRedirects: true })).body)
    expect(seen).toEqual([
      { server: 'a', path: '/moved', auth: 'Bearer k', other: '1' },
      { server: 'a', path: '/json', auth: 'Bearer k', other: '1' },
      { server: 'a', path: '/away', auth: 'Bearer k', other: '1' },
      { server: 'b', path: '/landing?sig=1', auth: undefined, other: '1' },
    ])
  })

  it('stops after 20 redirects, and never follows one off HTTP', async () => {
    await expect(httpRequest(`${baseA}/loop`, { followRedirects: true })).rejects.toThrow(/more than 20 redirects/)
    await expect(httpRequest(`${baseA}/ftp`, { followRedirects: true })).rejects.toThrow('a redirect to a ftp: URL')
    await expect(httpRequest('file:///etc/passwd')).rejects.toBeInstanceOf(HttpError)
  })

  it('a refused connection is an HttpError, not sent, carrying the socket error as its cause', async () => {
    const closed = createServer()
    const base = await listen(closed)
    await new Promise((resolve) => closed.close(resolve))
    const err = (await httpRequest(`${base}/x`, { method: 'POST', body: '{}' }).catch((e: unknown) => e)) as HttpError
    expect(err).toBeInstanceOf(HttpError)
    expect(err.sent).toBe(false)
    expect((err.cause as { code?: string }).code).toBe('ECONNREFUSED')
  })

  it('a connection that drops once the request is out fails it as sent', async () => {
    const heard: string[] = []
    routes.set('a/drop', (req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        heard.push(body)
        res.socket?.destroy()
      })
    })
    const err = (await httpRequest(`${baseA}/drop`, { method: 'POST', body: '{"paid":true}', fresh: true }).catch((e: unknown) => e)) as HttpError
    expect(err).toBeInstanceOf(HttpError)
    expect(err.sent).toBe(true)
    expect(heard).toEqual(['{"paid":true}'])
  })

  it('posts its body, follows no redirect of a POST, and takes a connection of its own when asked', async () => {
    routes.set('a/echo', (req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, body, type: req.headers['content-type'] })))
    })
    sockets.clear()
    for (let i = 0; i < 2; i++) {
      const res = await httpRequest(`${baseA}/echo`, { method: 'POST', body: `{"n":${i}}`, headers: { 'content-type': 'application/json' }, fresh: true })
      expect(JSON.parse(await readText(res.body))).toEqual({ method: 'POST', body: `{"n":${i}}`, type: 'application/json' })
    }
    expect(sockets.size).toBe(2)
    const moved = await httpRequest(`${baseA}/moved`, { method: 'POST', body: '{}', followRedirects: true })
    expect(moved.status).toBe(302)
    discard(moved.body)
  })

  it('an answer cut off before its end rejects its read', async () => {
    const res = await httpRequest(`${baseA}/cut`)
    await expect(readText(res.body)).rejects.toThrow()
  })

  it('an abort ends a request waiting for its answer, and the read of one mid-answer', async () => {
    const waiting = new AbortController()
    setTimeout(() => waiting.abort(), 30)
    const err = (await httpRequest(`${baseA}/hang`, { signal: waiting.signal }).catch((e: unknown) => e)) as HttpError
    expect(err).toBeInstanceOf(HttpError)
    expect((err.cause as Error).name).toBe('AbortError')
    routes.set('a/slow', (_req, res) => res.writeHead(200, { 'content-length': '10' }).write('12345'))
    const reading = new AbortController()
    const res = await httpRequest(`${baseA}/slow`, { signal: reading.signal })
    setTimeout(() => reading.abort(), 30)
    // Node reports the body's end as a reset ('aborted'); the caller tells an abort by its own signal.
    await expect(readText(res.body)).rejects.toThrow()
    expect(reading.signal.aborted).toBe(true)
  })

  it('a body dropped before it is read, or a reader that throws, rejects the read', async () => {
    const dropped = await httpRequest(`${baseA}/json`)
    dropped.body.destroy()
    await expect(readText(dropped.body)).rejects.toThrow('dropped before it was read')
    const res = await httpRequest(`${baseA}/json`)
    await expect(readBody(res.body, () => {
      throw new Error('disk full')
    })).rejects.toThrow('disk full')
    expect(res.body.destroyed).toBe(true)
  })
})
