import { spawn, type ChildProcess } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { extname, join, relative, resolve, sep } from 'node:path'
import { repoRoot } from '../helpers/project.js'
import { until } from '../helpers/wait.js'

/** Builds and dev servers of the examples under `examples/<name>`, run as a user runs them: their own CLI. */
export const exampleDir = (name: string) => join(repoRoot, 'examples', name)

/**
 * The environment for a framework's child process: CI unset (the examples ship offline previews,
 * which CI=true rightly refuses), no colours, no telemetry prompts.
 */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ASTRO_TELEMETRY_DISABLED: '1', NUXT_TELEMETRY_DISABLED: '1', ...extra }
  delete env.CI
  delete env.TOGETHER_API_KEY
  // Vitest's own markers would make some frameworks think they run under a test runner.
  delete env.VITEST
  // std-env reads TEST=true as a test run, and Nuxt's dev CLI then neither prints its URL nor serves.
  delete env.TEST
  delete env.NODE_PATH
  delete env.VITEST_MODE
  delete env.VITEST_POOL_ID
  delete env.VITEST_WORKER_ID
  delete env.NODE_ENV
  return env
}

/** Runs `node <script> ...args` in `cwd`; resolves with the output, rejects with it on a non-zero exit. */
export function run(cwd: string, script: string, args: string[], timeoutMs = 300_000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolvePromise(out)
      else reject(new Error(`node ${script} ${args.join(' ')} in ${cwd} exited with ${code ?? signal}:\n${out}`))
    })
  })
}

/** Removes what an earlier build or dev run left, so nothing old can satisfy an assertion. */
export async function clean(dir: string, paths: string[]): Promise<void> {
  for (const p of paths) await rm(join(dir, p), { recursive: true, force: true })
}

/** A free TCP port on 127.0.0.1 (for CLIs that take a port but not 0). */
export async function freePort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((r) => server.close(() => r()))
  return port
}

export interface DevProcess {
  url: string
  output(): string
  close(): Promise<void>
}

/** Starts a framework's dev server (`node <script> ...args`) and waits until it answers at `url`. */
export async function startDev(cwd: string, script: string, args: string[], url: string): Promise<DevProcess> {
  const child: ChildProcess = spawn(process.execPath, [script, ...args], { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  let exited = false
  const closed = new Promise<void>((r) => child.on('close', () => ((exited = true), r())))
  const close = async () => {
    if (!exited && child.pid) process.kill(-child.pid, 'SIGTERM')
    const timer = setTimeout(() => !exited && child.pid && process.kill(-child.pid, 'SIGKILL'), 5_000)
    await closed
    clearTimeout(timer)
  }
  // The port was free a moment ago, but a server of a concurrent test may have taken it since, and some
  // CLIs then move to another port quietly: trust the port the child itself prints, and only its answer.
  const wanted = new URL(url)
  let served = url
  try {
    await until(`the dev server at ${url}`, async () => {
      if (exited) throw new Error(`the dev server exited:\n${out}`)
      const printed = [...stripAnsi(out).matchAll(/https?:\/\/(?:127\.0\.0\.1|localhost):(\d+)/g)].map((m) => m[1])
      const port = printed.find((p) => p === wanted.port) ?? printed[0]
      if (!port) return false
      served = `${wanted.protocol}//${wanted.hostname}:${port}${wanted.pathname}${wanted.search}`
      try {
        return (await fetch(served)).status < 500
      } catch {
        return false
      }
    }, 120_000, 200)
  } catch (err) {
    await close()
    throw new Error(`${(err as Error).message}; it printed:\n${out.slice(-4000)}`, { cause: err })
  }
  return { url: served, output: () => out, close }
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '')
}

/** Every file under `dir`, as paths relative to it with `/` separators. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
  }
  return out.sort()
}

// Quoted as HTML attributes or JS strings (minifiers also use template literals).
// A dev URL may end with the spec it belongs to (`#vidspec=<id>`); the fragment is never fetched.
const MEDIA_URL_RE = /["'`(=]((?:\/|\.\/|https?:\/\/|file:\/\/)[^"'`()\s<>#]*?\.(?:mp4|webm|jpg))(?:#[^"'`()\s<>]*)?(?=["'`()\s<>])/g

/** Every clip or poster URL the text mentions (HTML attributes, JS string literals). */
export function mediaUrls(text: string): string[] {
  return [...new Set([...text.matchAll(MEDIA_URL_RE)].map((m) => m[1]!))]
}

/** Every media URL in the `.html` and `.js` files of `dir`, with the file that holds it. */
export async function mediaUrlsIn(dir: string): Promise<Array<{ file: string; url: string }>> {
  const out: Array<{ file: string; url: string }> = []
  for (const file of await listFiles(dir)) {
    if (!/\.(html|m?js)$/.test(file)) continue
    for (const url of mediaUrls(await readFile(join(dir, file), 'utf8'))) out.push({ file, url })
  }
  return out
}

/**
 * The file a public URL names when `outDir` is served at `base`: undefined for anything that is not
 * an absolute path under `base` (a `file://` URL, a relative one, a missing base) or names no file.
 */
export async function fileForUrl(url: string, base: string, outDir: string): Promise<string | undefined> {
  if (!url.startsWith(base)) return undefined
  const path = resolve(outDir, decodeURIComponent(url.slice(base.length)))
  if (!path.startsWith(resolve(outDir) + sep)) return undefined
  try {
    return (await stat(path)).isFile() ? path : undefined
  } catch {
    return undefined
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.jpg': 'image/jpeg',
}

export interface StaticServer {
  url: string
  close(): Promise<void>
}

/**
 * Serves a built site the way a static host does: `outDir` at `base`, `index.html` for a folder,
 * single byte ranges (what `<video>` asks for). Only for the tests' own output folders.
 */
export async function serveStatic(outDir: string, base: string, pages: Record<string, string> = {}): Promise<StaticServer> {
  const server: Server = createHttpServer((req, res) => {
    void (async () => {
      const pathname = decodeURIComponent((req.url ?? '/').split('?')[0]!)
      let file = pages[pathname] ? join(outDir, pages[pathname]) : await fileForUrl(pathname, base, outDir)
      if (!file && pathname.startsWith(base)) file = await fileForUrl(`${pathname.replace(/\/?$/, '/')}index.html`, base, outDir)
      if (!file) {
        res.statusCode = 404
        res.end()
        return
      }
      const { size } = await stat(file)
      res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream')
      res.setHeader('Accept-Ranges', 'bytes')
      const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '')
      let start = 0
      let end = size - 1
      if (m && (m[1] || m[2])) {
        start = m[1] ? Number(m[1]) : size - Number(m[2])
        end = m[1] && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1
        if (start > end || start >= size) {
          res.statusCode = 416
          res.setHeader('Content-Range', `bytes */${size}`)
          res.end()
          return
        }
        res.statusCode = 206
        res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`)
      }
      res.setHeader('Content-Length', String(end - start + 1))
      if (req.method === 'HEAD') return void res.end()
      createReadStream(file, { start, end }).pipe(res)
    })().catch(() => {
      res.statusCode = 500
      res.end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

/** Asks for the first `n` bytes of `url`; the dev server must answer 206 with exactly those. */
export async function rangeRequest(url: string, n = 100): Promise<{ status: number; contentRange: string | null; bytes: number; type: string | null }> {
  const res = await fetch(url, { headers: { Range: `bytes=0-${n - 1}` } })
  const body = Buffer.from(await res.arrayBuffer())
  return { status: res.status, contentRange: res.headers.get('content-range'), bytes: body.length, type: res.headers.get('content-type') }
}
