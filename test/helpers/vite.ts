import { chmod, readFile, rm, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { VideoAsset } from '@vidspec/core'
import vidspec, { type VidspecPluginOptions } from '@vidspec/vite'
import { createLogger, createServer, type HotPayload, type InlineConfig, type Logger, type ViteDevServer } from 'vite'

/** A spec source; `imports` are extra import lines (e.g. a shared module). */
export function specSource(fields: string, imports = ''): string {
  return `import { defineVideo } from '@vidspec/core'\n${imports}${imports ? '\n' : ''}export default defineVideo(${fields})\n`
}

/** A Vite logger that keeps every line, for asserting on what the plugin said. */
export function captureLogger(): Logger & { lines: string[]; text(): string } {
  const base = createLogger('info', { allowClearScreen: false })
  const lines: string[] = []
  // Strip colours so assertions read plain text.
  const keep = (msg: string): void => {
    // eslint-disable-next-line no-control-regex
    lines.push(msg.replace(/\x1b\[[0-9;]*m/g, ''))
  }
  return {
    ...base,
    lines,
    text: () => lines.join('\n'),
    info: (msg) => keep(msg),
    warn: (msg) => keep(msg),
    warnOnce: (msg) => keep(msg),
    error: (msg) => keep(msg),
  }
}

export interface DevServer {
  server: ViteDevServer
  /** `http://127.0.0.1:<port>` */
  url: string
  logger: ReturnType<typeof captureLogger>
  /** HMR payloads the client environment sent, in order. */
  hmr: HotPayload[]
  /** Paths of modules the client was told to update. */
  updatedPaths(): string[]
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** A real Vite dev server on 127.0.0.1, any free port, with only the vidspec plugin and no config file. */
export async function startDev(
  root: string,
  options: VidspecPluginOptions,
  extra: InlineConfig = {},
): Promise<DevServer> {
  const logger = captureLogger()
  const server = await createServer({
    root,
    configFile: false,
    customLogger: logger,
    plugins: [vidspec(options)],
    server: { host: '127.0.0.1', port: 0, strictPort: false, ws: false },
    ...extra,
  })
  const hmr: HotPayload[] = []
  const hot = server.environments.client.hot
  const send = hot.send.bind(hot) as (payload: HotPayload) => void
  // Record what the browser would be told; the e2e test watches a real browser receive it.
  hot.send = ((payload: HotPayload) => {
    hmr.push(payload)
    send(payload)
  }) as typeof hot.send
  await server.listen()
  const { port } = server.httpServer!.address() as AddressInfo
  const close = () => server.close()
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    logger,
    hmr,
    updatedPaths: () => hmr.flatMap((p) => (p.type === 'update' ? p.updates.map((u) => u.path) : [])),
    close,
    [Symbol.asyncDispose]: close,
  }
}

/** Fetches a spec module from the dev server and evaluates the asset object it exports. */
export async function fetchAsset(url: string): Promise<VideoAsset> {
  const res = await fetch(url)
  const code = await res.text()
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${code}`)
  const m = /track\(import\.meta\.hot, (\{[\s\S]*?\n\})\)/.exec(code)
  if (!m?.[1]) throw new Error(`${url}: no asset in\n${code}`)
  return new Function(`return ${m[1]}`)() as VideoAsset
}


/**
 * An ffmpeg wrapper that logs each call's arguments and then runs the real binary, optionally after a
 * pause for renders (calls with a filter graph) or a hold the test controls, so a test can catch a
 * generation while it runs.
 * `renders()` counts offline-provider renders; poster extractions are not renders.
 */
export async function recordingFfmpeg(
  dir: string,
  realFfmpeg: string,
  opts: { renderDelaySeconds?: number } = {},
): Promise<{
  path: string
  renders(): Promise<number>
  calls(): Promise<string[]>
  /** Renders that start from now on wait (before doing anything) until `release()`. */
  hold(): Promise<void>
  release(): Promise<void>
}> {
  const log = join(dir, 'ffmpeg-calls.log')
  const gate = join(dir, 'ffmpeg-hold')
  const path = join(dir, 'ffmpeg-recording.sh')
  const delay = opts.renderDelaySeconds ?? 0
  await writeFile(log, '')
  await writeFile(
    path,
    `#!/bin/sh\necho "$*" >> "${log}"\ncase "$*" in *-filter_complex*) while [ -e "${gate}" ]; do sleep 0.05; done; sleep ${delay};; esac\nexec "${realFfmpeg}" "$@"\n`,
  )
  await chmod(path, 0o755)
  const calls = async () => (await readFile(log, 'utf8')).split('\n').filter(Boolean)
  return {
    path,
    calls,
    renders: async () => (await calls()).filter((c) => c.includes('-filter_complex')).length,
    hold: () => writeFile(gate, ''),
    release: () => rm(gate, { force: true }),
  }
}
