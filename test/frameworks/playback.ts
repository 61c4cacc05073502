import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import { until } from '../helpers/wait.js'

interface VideoState {
  id: string
  src: string
  readyState: number
  duration: number
  error: number | null
}

const videoStates = (page: Page) =>
  page.$$eval('video', (videos) =>
    videos.map((v) => ({ id: v.id, src: v.currentSrc || v.src, readyState: v.readyState, duration: v.duration, error: v.error?.code ?? null })),
  ) as Promise<VideoState[]>

/** `count` videos on the page decode (readyState >= 2, a real duration), then each seeks to its middle. */
export async function expectVideosPlay(page: Page, count: number): Promise<void> {
  const states = await until(`${count} <video> elements at readyState >= 2`, async () => {
    const s = await videoStates(page)
    if (s.some((v) => v.error !== null)) throw new Error(`a video failed to load: ${JSON.stringify(s)}`)
    return s.length === count && s.every((v) => v.readyState >= 2) && s
  }, 60_000, 50)
  for (const v of states) {
    expect(v.duration, v.id).toBeGreaterThan(0.5)
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
    expect(Math.abs(landed - target), `${v.id} seeked to ${landed}`).toBeLessThan(0.5)
  }
}
