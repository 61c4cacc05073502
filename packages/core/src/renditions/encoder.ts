import { statSync } from 'node:fs'
import { join } from 'node:path'
import { sha256Hex } from '../key/key.js'
import type { MediaTools } from '../media/binaries.js'
import { runTool } from '../media/run.js'
import { readJson, writeJsonAtomic } from '../store/atomic.js'
import type { EncoderIdentity, Recipe } from './types.js'

/** The ffmpeg encoders each kind of recipe runs (a remux runs none, but its muxer is ffmpeg's). */
export function encodersFor(recipe: Recipe): string[] {
  switch (recipe.kind) {
    case 'video':
      if (recipe.format === 'mp4') return recipe.audio === 'keep' ? ['libx264', 'aac'] : ['libx264']
      if (recipe.format === 'webm') return recipe.audio === 'keep' ? ['libvpx-vp9', 'libopus'] : ['libvpx-vp9']
      return recipe.audio === 'keep' ? ['libaom-av1', 'libopus'] : ['libaom-av1']
    case 'poster':
      return [recipe.format === 'jpg' ? 'mjpeg' : recipe.format === 'webp' ? 'libwebp' : 'png']
    case 'placeholder':
      return ['mjpeg']
  }
}

const ALL_ENCODERS = ['libx264', 'aac', 'libvpx-vp9', 'libopus', 'libaom-av1', 'mjpeg', 'libwebp', 'png']

interface Known {
  ffmpeg: string
  build: string
  /** Encoder -> hash of its description, or null when this ffmpeg lacks it. */
  encoders: Record<string, string | null>
}

interface IdentityFile {
  version: 1
  binary: { path: string; size: number; mtimeMs: number; ino: number }
  known: Known
}

const perProcess = new Map<string, Promise<Known>>()

/**
 * What this ffmpeg is: its version line, a hash of its whole `-version` text and of each encoder's
 * `-h encoder=` description. Asked once per process, and remembered in the store next to the binary's
 * stat, so a build with every rendition cached starts no ffmpeg at all.
 */
function knownEncoders(tools: MediaTools, cacheDir: string | undefined): Promise<Known> {
  const bin = tools.ffmpeg()
  let p = perProcess.get(bin)
  if (!p) {
    p = readOrAsk(bin, cacheDir)
    p.catch(() => perProcess.delete(bin))
    perProcess.set(bin, p)
  }
  return p
}

async function readOrAsk(bin: string, cacheDir: string | undefined): Promise<Known> {
  const st = statSync(bin)
  const binary = { path: bin, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }
  const file = cacheDir ? join(cacheDir, 'memo', 'encoders.json') : undefined
  if (file) {
    const read = await readJson(file)
    const rec = read.ok ? (read.value as Partial<IdentityFile>) : undefined
    if (rec?.version === 1 && rec.known && JSON.stringify(rec.binary) === JSON.stringify(binary)) return rec.known
  }
  const version = (await runTool(bin, ['-hide_banner', '-version'], { stdout: true, what: 'asking ffmpeg its version' })).stdout
  const entries = await Promise.all(
    ALL_ENCODERS.map(async (name) => {
      const { stdout } = await runTool(bin, ['-hide_banner', '-h', `encoder=${name}`], { stdout: true, what: `asking ffmpeg about ${name}` })
      // ffmpeg answers an unknown encoder with a one-line notice and exit 0.
      const present = stdout.includes(`Encoder ${name} `)
      return [name, present ? sha256Hex(stdout).slice(0, 16) : null] as const
    }),
  )
  const firstLine = version.split('\n')[0] ?? ''
  const known: Known = {
    ffmpeg: firstLine.replace(/ Copyright.*$/, '').trim(),
    build: sha256Hex(version).slice(0, 16),
    encoders: Object.fromEntries(entries),
  }
  if (file) {
    const rec: IdentityFile = { version: 1, binary, known }
    await writeJsonAtomic(join(cacheDir as string, 'tmp'), file, rec, { durable: false }).catch(() => undefined)
  }
  return known
}

/** This ffmpeg's whole identity: its build and every encoder it has or lacks. */
export function ffmpegIdentity(tools: MediaTools, cacheDir?: string): Promise<Readonly<Known>> {
  return knownEncoders(tools, cacheDir)
}

/** Whether this ffmpeg has an encoder (AV1 needs libaom). */
export async function hasEncoder(name: string, tools: MediaTools, cacheDir?: string): Promise<boolean> {
  return Boolean((await knownEncoders(tools, cacheDir)).encoders[name])
}

/** The identity of the encoders a recipe runs, as it enters the rendition key. */
export async function encoderIdentity(recipe: Recipe, tools: MediaTools, cacheDir?: string): Promise<EncoderIdentity> {
  const known = await knownEncoders(tools, cacheDir)
  const encoders: Record<string, string> = {}
  for (const name of encodersFor(recipe)) encoders[name] = known.encoders[name] ?? 'absent'
  return { ffmpeg: known.ffmpeg, build: known.build, encoders }
}
