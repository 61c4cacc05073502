import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RACY_MS } from '../store/stamp.js'

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/**
 * The two-spec project the memo and loader tests share: `a.video.ts` and `b.video.ts` both import
 * `shared.ts`, and b also uses the local image `frame.png`. `spec(prompt, extra)` writes a spec source.
 */
export async function writeTwoSpecs(root: string, spec: (prompt: string, extra?: string) => string): Promise<void> {
  await writeFile(join(root, 'shared.ts'), `export const look = 'teal'\n`)
  await writeFile(join(root, 'frame.png'), Buffer.concat([PNG_SIGNATURE, Buffer.from('frame bytes')]))
  await writeFile(join(root, 'a.video.ts'), spec('alpha'))
  await writeFile(join(root, 'b.video.ts'), spec('beta', ", media: { frame_images: [{ input_image: './frame.png', frame: 'first' }] }"))
}

/**
 * Waits until the files written so far have settled: a file changed less than RACY_MS ago is never
 * vouched for by its stamp, and a split build does not take esbuild's read of it as its own.
 */
export const settle = (): Promise<void> => new Promise((r) => setTimeout(r, RACY_MS + 100))
