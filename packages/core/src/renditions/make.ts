import { readFile, rm } from 'node:fs/promises'
import { VidspecError } from '../errors.js'
import type { MediaTools } from '../media/binaries.js'
import { probeVideo, type ProbeResult } from '../media/probe.js'
import { runFfmpeg } from '../media/run.js'
import type { Store } from '../store/index.js'
import { canRemux, placeholderArgs, posterArgs, videoArgs, type MasterStreams } from './args.js'
import { checkImageRendition, checkVideoRendition, type MasterFacts } from './checks.js'
import { sourceType } from './codecs.js'
import type { DerivedRecord, EncoderIdentity, RenditionItem } from './types.js'

/** A master as a rendition needs it: its probe (streams, duration) and where its verified bytes are. */
export interface MasterInput {
  path: string
  probe: ProbeResult
}

export function masterStreams(p: ProbeResult): MasterStreams {
  return { container: p.container, videoCodec: p.codec, audioCodec: p.audioCodec, width: p.width, height: p.height, bitrate: p.bitrate }
}

export function masterFacts(p: ProbeResult): MasterFacts {
  return { width: p.width, height: p.height, duration: p.duration, fps: p.fps, hasAudio: p.hasAudio }
}

export const IMAGE_TYPE: Record<string, string> = { jpg: 'image/jpeg', webp: 'image/webp', png: 'image/png' }

/**
 * Makes one derived object with ffmpeg into a temp file in the store, checks it (never stored
 * otherwise: RENDITION_INVALID names the failed check) and commits it with its record.
 */
export async function makeRendition(
  store: Store,
  item: RenditionItem,
  master: MasterInput,
  encoder: EncoderIdentity,
  opts: { signal?: AbortSignal | undefined; tools: MediaTools },
): Promise<DerivedRecord> {
  const { tools } = opts
  const tmp = store.tempPath(item.ext)
  const what = `${item.spec}: rendition ${item.id}`
  const { recipe } = item
  try {
    let method: DerivedRecord['method'] = 'encode'
    let type: string
    let duration = 0
    let inline: string | undefined
    if (recipe.kind === 'video') {
      const streams = masterStreams(master.probe)
      const remux = canRemux(recipe, streams)
      method = remux ? 'remux' : 'encode'
      await runFfmpeg(videoArgs(recipe, streams, master.path, tmp, remux), { signal: opts.signal, what: `making ${what}`, tools })
      const p = await checkVideoRendition(tmp, recipe, masterFacts(master.probe), what, { countPackets: false, tools })
      type = sourceType(p)
      duration = p.duration
    } else {
      const args = recipe.kind === 'poster' ? posterArgs(recipe, master.path, tmp) : placeholderArgs(recipe, master.path, tmp)
      await runFfmpeg(args, { signal: opts.signal, what: `making ${what}`, tools })
      await checkImageRendition(tmp, recipe, what, tools)
      type = IMAGE_TYPE[recipe.format] ?? 'application/octet-stream'
      if (recipe.kind === 'placeholder') inline = (await readFile(tmp)).toString('base64')
    }
    return await store.commitDerived(tmp, {
      key: item.key,
      kind: recipe.kind,
      master: item.master.digest,
      recipe,
      encoder,
      ext: item.ext,
      type,
      width: recipe.width,
      height: recipe.height,
      duration,
      from: masterFacts(master.probe),
      method,
      ...(inline ? { inline } : {}),
      spec: item.spec,
      createdAt: new Date().toISOString(),
    })
  } finally {
    await rm(tmp, { force: true })
  }
}

/** Probes a master for what renditions need (streams, audio, bitrate). */
export async function probeMaster(path: string, spec: string, tools: MediaTools): Promise<ProbeResult> {
  try {
    return await probeVideo(path, { tools })
  } catch (err) {
    throw new VidspecError('CACHE_CORRUPT', `${spec}: its stored clip cannot be read to make renditions from: ${(err as Error).message}`, { cause: err })
  }
}
