import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import { until } from './wait.js'

export interface VideoState {
  id: string
  src: string
  readyState: number
  duration: number
  error: number | null
}

/** What each `<video>` on the page shows and how far it got. */
export const videoStates = (page: Page) =>
  page.$$eval('video', (videos) =>
    videos.map((v) => ({ id: v.id, src: v.currentSrc || v.src, readyState: v.readyState, duration: v.duration, error: v.error?.code ?? null })),
  ) as Promise<VideoState[]>

/** Every `<video>` has data to show (readyState >= 2), `count` of them, none failed. */
export function videosReady(page: Page, count: number): Promise<VideoState[]> {
  return until(`${count} <video> elements at readyState >= 2`, async () => {
    const s = await videoStates(page)
    if (s.some((v) => v.error !== null)) throw new Error(`a video failed to load: ${JSON.stringify(s)}`)
    return s.length === count && s.every((v) => v.readyState >= 2) && s
  }, 60_000, 50)
}

/** Seeks the `<video id=…>` to the middle of its duration; asserts where it landed. */
export async function expectSeeks(page: Page, v: VideoState, label = v.id): Promise<void> {
  const target = v.duration / 2
  const landed = await page.$eval(
    `#${v.id}`,
    (video, t) =>
      new Promise<number>((resolve, reject) => {
        const el = video as HTMLVideoElement
        const timer = setTimeout(() => reject(new Error(`seek of ${el.id} timed out`)), 15_000)
        el.addEventListener('seeked', () => {
          clearTimeout(timer)
          resolve(el.currentTime)
        }, { once: true })
        el.currentTime = t
      }),
    target,
  )
  expect(Math.abs(landed - target), `${label} seeked to ${landed}`).toBeLessThan(0.5)
}

/** `count` videos on the page decode (readyState >= 2, a real duration), then each seeks to its middle. */
export async function expectVideosPlay(page: Page, count: number): Promise<void> {
  for (const v of await videosReady(page, count)) {
    expect(v.duration, v.id).toBeGreaterThan(0.5)
    await expectSeeks(page, v)
  }
}
