import type { Entry } from '../types.js'

/** What probing a clip tells about it (see media/probe.ts). */
export interface ClipShape {
  width: number
  height: number
  duration: number
  fps: number
  codec: string
  mime: string
  ext: string
}

/** Where a clip came from: the job (or render) that made it and the spec it was made for. */
export type ClipOrigin = Pick<Entry, 'key' | 'provider' | 'preview' | 'model' | 'jobId' | 'cost' | 'seed' | 'spec' | 'request'>

/**
 * The one way an entry's fields are put together from a probed clip and its origin, for a clip the
 * runner just made and for an approved clip restored from the lockfile alike. The store adds what
 * only the bytes can say (digest, size).
 */
export function clipEntry(shape: ClipShape, origin: ClipOrigin): Omit<Entry, 'digest' | 'size' | 'version'> {
  return {
    key: origin.key,
    ext: shape.ext,
    mime: shape.mime,
    width: shape.width,
    height: shape.height,
    duration: shape.duration,
    fps: shape.fps,
    codec: shape.codec,
    provider: origin.provider,
    preview: origin.preview,
    model: origin.model,
    jobId: origin.jobId,
    cost: origin.cost,
    seed: origin.seed,
    createdAt: new Date().toISOString(),
    spec: origin.spec,
    request: origin.request,
  }
}
