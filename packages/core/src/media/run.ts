import { basename } from 'node:path'
import { VidspecError, type ErrorCode } from '../errors.js'
import { ffmpegPath, type MediaTools } from './binaries.js'

export interface RunToolOptions {
  signal?: AbortSignal | undefined
  /** Code of the error thrown when the tool exits non-zero. */
  failCode?: ErrorCode
  /** What the run was for, to start the error message (`rendering preview.mp4`). */
  what?: string
  /** Keep stdout (ffprobe's JSON); otherwise it is discarded. */
  stdout?: boolean
}

export interface ToolResult {
  stdout: string
  /** The last lines the tool wrote to stderr. */
  stderr: string
}

// Loaded on the first run: a plan or a cached build starts no tool and skips its load.
let childProcess: Promise<typeof import('node:child_process')> | undefined

/** Enough of stderr to name the cause; ffmpeg can write megabytes of progress before failing. */
const STDERR_TAIL = 4000

function tail(text: string): string {
  return text.length > STDERR_TAIL ? text.slice(text.length - STDERR_TAIL) : text
}

/**
 * Runs an ffmpeg-family binary to completion. On abort the child is killed with SIGKILL (SIGTERM
 * would let ffmpeg finish the file, leaving a short but valid-looking clip) and the promise settles
 * only once the child has exited, so no process outlives the call.
 */
export async function runTool(bin: string, args: string[], opts: RunToolOptions = {}): Promise<ToolResult> {
  const { spawn } = await (childProcess ??= import('node:child_process'))
  const tool = basename(bin)
  const what = opts.what ?? tool
  const { signal } = opts
  if (signal?.aborted) {
    return Promise.reject(new VidspecError('ABORTED', `${what}: aborted before ${tool} started`, { cause: signal.reason }))
  }
  return new Promise<ToolResult>((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', opts.stdout ? 'pipe' : 'ignore', 'pipe'] })
    const out: Buffer[] = []
    let err = ''
    let aborted = false
    let spawnError: Error | undefined
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr?.on('data', (chunk: Buffer) => {
      err = tail(err + chunk.toString('utf8'))
    })
    const onAbort = () => {
      aborted = true
      child.kill('SIGKILL')
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    let settled = false
    const finish = (code: number | null, sig: NodeJS.Signals | null) => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      const stderr = err.trim()
      if (aborted) {
        reject(new VidspecError('ABORTED', `${what}: aborted`, { cause: signal?.reason }))
      } else if (spawnError) {
        reject(
          new VidspecError(
            'INTERNAL',
            `${what}: could not start ${bin} (${spawnError.message}). Set VIDSPEC_FFMPEG / VIDSPEC_FFPROBE to a working binary.`,
            { cause: spawnError },
          ),
        )
      } else if (code !== 0) {
        const how = sig ? `was killed by ${sig}` : `exited with code ${code}`
        reject(new VidspecError(opts.failCode ?? 'INTERNAL', `${what}: ${tool} ${how}${stderr ? `:\n${stderr}` : ''}`))
      } else {
        resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr })
      }
    }
    child.on('error', (e) => {
      spawnError = e
      // A child that never started emits no reliable 'close'; one that did will still close.
      if (child.pid === undefined) finish(null, null)
    })
    child.on('close', finish)
  })
}

export interface RunFfmpegOptions {
  signal?: AbortSignal | undefined
  /** What the run was for, to start the error message. */
  what?: string
  /** The project's ffmpeg (its VIDSPEC_FFMPEG); the process's environment decides without one. */
  tools?: MediaTools | undefined
}

/**
 * Runs ffmpeg with `args` (quiet, no stdin). Rejects with `ABORTED` when the signal fires (the child
 * is killed and reaped first) and with `INTERNAL` carrying ffmpeg's last stderr lines when it fails.
 */
export async function runFfmpeg(args: string[], opts: RunFfmpegOptions = {}): Promise<void> {
  await runTool(ffmpegPath(opts.tools), ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args], {
    signal: opts.signal,
    failCode: 'INTERNAL',
    what: opts.what ?? 'ffmpeg',
  })
}
