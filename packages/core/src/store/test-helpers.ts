import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { onTestFinished } from 'vitest'
import type { DerivedRecord } from '../renditions/types.js'
import type { Entry } from '../types.js'
import { Store } from './store.js'

/** A fresh, initialised store in its own temp directory, removed when the test ends. */
export async function tempStore(): Promise<Store> {
  const store = new Store(join(await mkdtemp(join(tmpdir(), 'vidspec-store-')), '.vidspec'))
  onTestFinished(() => rm(dirname(store.dir), { recursive: true, force: true }))
  await store.init()
  return store
}

export function meta(key: string, extra: Partial<Entry> = {}): Omit<Entry, 'digest' | 'size' | 'version'> {
  return {
    key,
    ext: 'mp4',
    mime: 'video/mp4',
    width: 160,
    height: 90,
    duration: 1,
    fps: 24,
    codec: 'h264',
    provider: 'offline',
    preview: true,
    model: 'minimax/hailuo-02',
    createdAt: new Date().toISOString(),
    spec: 'src/hero.video.ts',
    request: { model: 'minimax/hailuo-02', prompt: 'a forest', seconds: '1' },
    ...extra,
  }
}

/** Writes `bytes` to a temp file of the store and commits it under `key`. */
export async function commitBytes(store: Store, key: string, bytes: string | Uint8Array, extra: Partial<Entry> = {}): Promise<Entry> {
  const tmp = store.tempPath('mp4')
  await writeFile(tmp, bytes)
  return store.commit(tmp, meta(key, extra))
}

export const KEY_A = 'a'.repeat(64)
export const KEY_B = 'b'.repeat(64)
export const KEY_C = 'c'.repeat(64)

/** Writes `bytes` to a temp file of the store and commits it as a poster derived from `master` (a digest). */
export async function commitDerivedBytes(store: Store, key: string, master: string, bytes: string, createdAt = new Date().toISOString()): Promise<DerivedRecord> {
  const tmp = store.tempPath('jpg')
  await writeFile(tmp, bytes)
  return store.commitDerived(tmp, {
    key,
    kind: 'poster',
    master,
    recipe: { kind: 'poster', format: 'jpg', at: 0, width: 160, height: 90 },
    encoder: { ffmpeg: 'ffmpeg version test', build: 'b', encoders: { mjpeg: 'm' } },
    ext: 'jpg',
    type: 'image/jpeg',
    width: 160,
    height: 90,
    duration: 0,
    from: { width: 160, height: 90, duration: 1, fps: 24, hasAudio: false },
    method: 'encode',
    spec: 'src/hero.video.ts',
    createdAt,
  })
}
