import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadSpecFile } from '../spec/load.js'
import { resolveMedia } from '../spec/media.js'
import { validateSpec } from '../spec/validate.js'
import { computeKey } from './key.js'

let dir: string
const png = (text: string): Buffer => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(text)])

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vidspec-key-'))
  await writeFile(join(dir, 'frame.png'), png('not really a png, but bytes are bytes'))
  await writeFile(join(dir, 'brand.ts'), `export const brand = { look: 'teal and amber' }\n`)
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Writes a spec file, loads it the way a build does, and returns its key. */
async function keyOf(source: string, provider = 'together', files: Record<string, string> = {}): Promise<string> {
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content)
  const file = join(dir, `s${Math.random().toString(36).slice(2)}.video.ts`)
  await writeFile(file, source)
  const { raw } = await loadSpecFile(file)
  const { request } = validateSpec(raw, file)
  const { media, issues } = await resolveMedia(request, file)
  expect(issues).toEqual([])
  return computeKey({ provider, request, media })
}

const base = `import { defineVideo } from '@vidspec/core'
export default defineVideo({ model: 'minimax/hailuo-02', prompt: 'a forest', seconds: 6, steps: 20, seed: 1,
  media: { frame_images: [{ input_image: './frame.png', frame: 'first' }] } })
`

describe('the cache key', () => {
  it.each([
    [
      'reordered keys',
      `import { defineVideo } from '@vidspec/core'
export default defineVideo({ seed: 1, steps: 20, media: { frame_images: [{ frame: 'first', input_image: './frame.png' }] },
  seconds: 6, prompt: 'a forest', model: 'minimax/hailuo-02' })`,
    ],
    [
      'reformatted source and comments',
      `import {defineVideo} from "@vidspec/core";
// a comment that changes nothing
export default defineVideo({
    model: "minimax/hailuo-02",
    prompt: "a forest",
    seconds: 6,
    steps: 20,
    seed: 1,
    media: {frame_images: [{input_image: "./frame.png", frame: "first"}]},
});`,
    ],
    [
      'renamed variables',
      `import { defineVideo as dv } from '@vidspec/core'
const subject = 'a forest'
const howLong = 6
export default dv({ model: 'minimax/hailuo-02', prompt: subject, seconds: howLong, steps: 20, seed: 1,
  media: { frame_images: [{ input_image: './frame.png', frame: 'first' }] } })`,
    ],
    [
      'seconds as a string',
      base.replace('seconds: 6', "seconds: '6'"),
    ],
  ])('stays the same for %s', async (_name, source) => {
    expect(await keyOf(source)).toBe(await keyOf(base))
  })

  it.each([
    ['the prompt', base.replace("'a forest'", "'a desert'")],
    ['steps', base.replace('steps: 20', 'steps: 30')],
    ['the seed', base.replace('seed: 1', 'seed: 2')],
    ['seconds', base.replace('seconds: 6', 'seconds: 5')],
    ['the model', base.replace('minimax/hailuo-02', 'minimax/video-01-director')],
    ['a negative prompt', base.replace("prompt: 'a forest'", "prompt: 'a forest', negative_prompt: 'blur'")],
    ['the keyframe image ref kind', base.replace("'./frame.png'", "'https://example.com/frame.png'")],
    ['an explicit default', base.replace('seed: 1', "seed: 1, output_format: 'MP4'")],
  ])('changes with %s', async (_name, source) => {
    expect(await keyOf(source)).not.toBe(await keyOf(base))
  })

  it('changes with one byte of a referenced image, not with its path', async () => {
    const before = await keyOf(base)
    await writeFile(join(dir, 'copy.png'), png('not really a png, but bytes are bytes'))
    expect(await keyOf(base.replace('./frame.png', './copy.png'))).toBe(before)
    await writeFile(join(dir, 'frame.png'), png('not really a png, but bytes are bytez'))
    expect(await keyOf(base)).not.toBe(before)
  })

  it('changes when an imported shared module changes what the spec says', async () => {
    const spec = `import { defineVideo } from '@vidspec/core'
import { brand } from './brand'
export default defineVideo({ model: 'minimax/hailuo-02', prompt: \`a forest, \${brand.look}\` })`
    const before = await keyOf(spec)
    const after = await keyOf(spec, 'together', { 'brand.ts': `export const brand = { look: 'black and white' }\n` })
    expect(after).not.toBe(before)
  })

  it('never collides between offline previews and real generations', async () => {
    expect(await keyOf(base, 'offline')).not.toBe(await keyOf(base, 'together'))
  })
})
