import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../config/resolve.js'
import { isVidspecError, type VidspecError } from '../errors.js'
import { computeKey } from '../key/key.js'
import { validateSpec } from '../spec/validate.js'
import { canRemux, videoArgs, type MasterStreams } from './args.js'
import { RENDITION_FORMAT_VERSION, renditionDefaults } from './defaults.js'
import { directiveQuery, parseRenditionQuery } from './directives.js'
import { renditionKey } from './key.js'
import { placeholderRecipe, posterRecipes, renditionSize, resolveRenditions, videoRecipes } from './resolve.js'
import type { EncoderIdentity, VideoRecipe } from './types.js'

const FILE = 'src/hero.video.ts'
const MASTER = { width: 1366, height: 768 }
const DIGEST = 'a'.repeat(64)
const ENCODER: EncoderIdentity = { ffmpeg: 'ffmpeg version 4.1', build: '0123456789abcdef', encoders: { libx264: 'aaaaaaaaaaaaaaaa', aac: 'bbbbbbbbbbbbbbbb' } }

function thrown(fn: () => unknown): VidspecError {
  try {
    fn()
  } catch (err) {
    if (isVidspecError(err)) return err
    throw err
  }
  throw new Error('expected a VidspecError')
}

describe('defaults', () => {
  it('ship one MP4 at the master size with its audio, a first-frame JPEG poster and a placeholder', () => {
    const r = resolveRenditions()
    expect(videoRecipes(r, MASTER)).toEqual([{ kind: 'video', format: 'mp4', width: 1366, height: 768, crf: 23, maxBitrate: null, audio: 'keep' }])
    expect(posterRecipes(r, MASTER, 6)).toEqual([{ kind: 'poster', format: 'jpg', at: 0, width: 1366, height: 768 }])
    expect(placeholderRecipe(r, MASTER)).toMatchObject({ kind: 'placeholder', width: 24, height: 14 })
  })
})

describe('precedence: config, then spec, then import directives', () => {
  it('each level replaces only the fields it sets', () => {
    const config = { formats: ['mp4', 'webm'] as const, widths: [640, 1280], crf: { webm: 30 }, audio: 'strip' as const }
    const spec = { widths: [960], crf: 20 }
    const query = parseRenditionQuery('?format=webm&audio=keep', FILE)
    const r = resolveRenditions({ ...config, formats: [...config.formats] }, spec, query)
    expect(r.formats).toEqual(['webm'])
    expect(r.widths).toEqual([960])
    expect(r.crf).toEqual({ mp4: 20, webm: 20, av1: 20 })
    expect(r.audio).toBe('keep')
    // Without the directives the config's formats and the spec's widths hold.
    const noQuery = resolveRenditions({ ...config, formats: [...config.formats] }, spec)
    expect(noQuery.formats).toEqual(['mp4', 'webm'])
    expect(noQuery.audio).toBe('strip')
    // Per-format CRF merges over the defaults.
    expect(resolveRenditions({ crf: { webm: 30 } }).crf).toEqual({ ...renditionDefaults.crf, webm: 30 })
  })

  it('a spec turning the poster off wins over the config, and a directive can turn it back on', () => {
    expect(resolveRenditions({ poster: { times: [1] } }, { poster: false }).poster).toBe(false)
    expect(resolveRenditions({ poster: { times: [1] } }, { poster: false }, parseRenditionQuery('poster=2', FILE)).poster).toEqual({ times: [2], formats: ['jpg'] })
  })

  it('the config file and the spec are checked, naming the file, the field, the value and what is allowed', () => {
    const cfg = thrown(() => resolveConfig({ renditions: { formats: ['mp4', 'gif'], widths: [641] } }, { root: '/tmp/p', file: 'vidspec.config.ts', env: {} }))
    expect(cfg.code).toBe('CONFIG_INVALID')
    expect(cfg.message).toContain('vidspec.config.ts')
    expect(cfg.message).toMatch(/renditions\.formats\[1\]: a non-empty list of "mp4", "webm", "av1" \(got "gif"\)/)
    expect(cfg.message).toMatch(/renditions\.widths\[0\]: .*even integers.*\(got 641\)/)
    expect(resolveConfig({ renditions: { formats: ['webm'], remote: true } }, { root: '/tmp/p', env: {} }).renditions).toEqual({ formats: ['webm'], remote: true })

    const spec = thrown(() => validateSpec({ model: 'minimax/hailuo-02', prompt: 'p', renditions: { audio: 'mute', remote: true, size: 3 } }, FILE))
    expect(spec.code).toBe('SPEC_INVALID')
    expect(spec.message).toContain(FILE)
    expect(spec.message).toMatch(/renditions\.audio: "keep" or "strip" \(got "mute"\)/)
    expect(spec.message).toMatch(/renditions\.remote: .*only in vidspec\.config\.ts/)
    expect(spec.message).toMatch(/renditions\.size: unknown option/)
  })
})

describe('import directives', () => {
  it('parse widths, formats, audio, crf, bitrate, posters and the placeholder', () => {
    expect(parseRenditionQuery('./hero.video?w=640;1280;original&format=webm;mp4&audio=strip&crf=28&bitrate=800&poster=0;1.5&posterFormat=webp&placeholder=false', FILE)).toEqual({
      widths: [640, 1280, 'original'],
      formats: ['webm', 'mp4'],
      audio: 'strip',
      crf: 28,
      maxBitrate: 800,
      poster: { times: [0, 1.5], formats: ['webp'] },
      placeholder: false,
    })
    expect(parseRenditionQuery('?poster=false', FILE)).toEqual({ poster: false })
  })

  it("ignore Vite's own query parameters and an empty query", () => {
    expect(parseRenditionQuery('?import&t=1712345&w=640', FILE)).toEqual({ widths: [640] })
    expect(parseRenditionQuery('', FILE)).toEqual({})
    expect(parseRenditionQuery(undefined, FILE)).toEqual({})
  })

  it('refuse a bad directive naming the file, the directive, the value and what is allowed; every problem at once', () => {
    const err = thrown(() => parseRenditionQuery('?w=640;abc&format=gif&size=3&crf=99', FILE))
    expect(err.code).toBe('SPEC_INVALID')
    expect(err.message).toContain(`${FILE}: import directives: 4 problems`)
    expect(err.message).toMatch(/\?w: widths in pixels .* \(got "640;abc"\)/)
    expect(err.message).toMatch(/\?format: formats separated by ";", each one of mp4, webm, av1.*\(got "gif"\)/)
    expect(err.message).toMatch(/\?size: unknown directive; the directives are w, format, audio, crf, bitrate, poster, placeholder, posterFormat/)
    expect(err.message).toMatch(/\?crf: an integer from 0 to 51 \(got "99"\)/)
  })
})

describe('sizes', () => {
  it('are never upscaled, keep the aspect and are even', () => {
    expect(renditionSize(MASTER, 640)).toEqual({ width: 640, height: 360 })
    expect(renditionSize(MASTER, 4000)).toEqual(MASTER)
    expect(renditionSize({ width: 1000, height: 563 }, 'original')).toEqual({ width: 1000, height: 562 })
    expect(renditionSize({ width: 1001, height: 563 }, 640)).toEqual({ width: 640, height: 360 })
    const r = resolveRenditions({ widths: [640, 2000, 'original'], formats: ['mp4', 'webm', 'av1'] })
    // 2000 and original are the same rendition (the master's size): one each, best first.
    expect(videoRecipes(r, MASTER).map((v) => `${v.format}-${v.width}x${v.height}`)).toEqual([
      'av1-1366x768', 'av1-640x360', 'webm-1366x768', 'webm-640x360', 'mp4-1366x768', 'mp4-640x360',
    ])
  })
})

describe('the rendition key', () => {
  const recipe: VideoRecipe = { kind: 'video', format: 'mp4', width: 640, height: 360, crf: 23, maxBitrate: null, audio: 'keep' }
  const base = renditionKey(DIGEST, recipe, ENCODER)

  it('changes with the master, every recipe field and the encoder identity', () => {
    expect(renditionKey(DIGEST, { ...recipe }, { ...ENCODER, encoders: { ...ENCODER.encoders } })).toBe(base)
    expect(renditionKey('b'.repeat(64), recipe, ENCODER)).not.toBe(base)
    const variants: VideoRecipe[] = [
      { ...recipe, format: 'webm' },
      { ...recipe, width: 642 },
      { ...recipe, height: 362 },
      { ...recipe, crf: 24 },
      { ...recipe, maxBitrate: 800 },
      { ...recipe, audio: 'strip' },
    ]
    const keys = new Set(variants.map((v) => renditionKey(DIGEST, v, ENCODER)))
    expect(keys.size).toBe(variants.length)
    expect(keys.has(base)).toBe(false)
    expect(renditionKey(DIGEST, recipe, { ...ENCODER, ffmpeg: 'ffmpeg version 6.0' })).not.toBe(base)
    expect(renditionKey(DIGEST, recipe, { ...ENCODER, build: 'fedcba9876543210' })).not.toBe(base)
    expect(renditionKey(DIGEST, recipe, { ...ENCODER, encoders: { ...ENCODER.encoders, libx264: 'cccccccccccccccc' } })).not.toBe(base)
    expect(RENDITION_FORMAT_VERSION).toBeGreaterThan(0)
  })

  it('is independent of key order in the recipe', () => {
    const shuffled = Object.fromEntries(Object.entries(recipe).reverse()) as unknown as VideoRecipe
    expect(renditionKey(DIGEST, shuffled, ENCODER)).toBe(base)
  })

  it('renditions never enter the request or the generation key', () => {
    const spec = { model: 'minimax/hailuo-02', prompt: 'a forest', seconds: 6 }
    const plain = validateSpec(spec, FILE)
    const withRenditions = validateSpec({ ...spec, renditions: { formats: ['webm', 'av1'], widths: [640], audio: 'strip' } }, FILE)
    expect(withRenditions.request).toEqual(plain.request)
    expect(withRenditions.renditions).toEqual({ formats: ['webm', 'av1'], widths: [640], audio: 'strip' })
    const key = (request: typeof plain.request) => computeKey({ provider: 'together', request, media: new Map() })
    expect(key(withRenditions.request)).toBe(key(plain.request))
  })
})

describe('remux or encode', () => {
  const recipe: VideoRecipe = { kind: 'video', format: 'mp4', width: 1366, height: 768, crf: 23, maxBitrate: null, audio: 'keep' }
  const master: MasterStreams = { container: 'mp4', videoCodec: 'h264', audioCodec: 'aac', width: 1366, height: 768, bitrate: 4_000_000 }
  it('remuxes an H.264 master with AAC or no audio at its own size, under any cap', () => {
    expect(canRemux(recipe, master)).toBe(true)
    expect(canRemux(recipe, { ...master, audioCodec: undefined })).toBe(true)
    expect(canRemux({ ...recipe, audio: 'strip' }, { ...master, audioCodec: 'opus' })).toBe(true)
    expect(canRemux({ ...recipe, maxBitrate: 5000 }, master)).toBe(true)
  })
  it('encodes otherwise: another codec, size, audio codec, format, or a master above the cap', () => {
    expect(canRemux(recipe, { ...master, videoCodec: 'vp9', container: 'webm' })).toBe(false)
    expect(canRemux({ ...recipe, width: 640, height: 360 }, master)).toBe(false)
    expect(canRemux(recipe, { ...master, audioCodec: 'opus' })).toBe(false)
    expect(canRemux({ ...recipe, format: 'webm' }, master)).toBe(false)
    expect(canRemux({ ...recipe, maxBitrate: 1000 }, master)).toBe(false)
  })
  it('a remux copies both streams and moves the index to the front; an encode scales only when the size changes', () => {
    const remux = videoArgs(recipe, master, 'in.mp4', 'out.mp4', true)
    expect(remux.join(' ')).toMatch(/-map 0:v:0 -map 0:a:0 -c:a copy -c:v copy .*-movflags \+faststart -f mp4 -y out\.mp4$/)
    expect(videoArgs({ ...recipe, audio: 'strip' }, master, 'in.mp4', 'out.mp4', true)).toContain('-an')
    const encode = videoArgs({ ...recipe, width: 640, height: 360, maxBitrate: 800 }, master, 'in.mp4', 'out.mp4', false).join(' ')
    expect(encode).toMatch(/-vf scale=640:360:flags=lanczos/)
    expect(encode).toMatch(/-c:v libx264 .*-crf 23 -maxrate 800k -bufsize 1600k/)
    expect(videoArgs(recipe, master, 'in.mp4', 'out.mp4', false).join(' ')).not.toMatch(/scale=/)
  })
})

describe('directiveQuery', () => {
  it("keeps an import's directives alone: Vite's own parameters, the vidspec marker and a fragment go", () => {
    expect(directiveQuery('/site/hero.video.ts?import&w=640;1280&t=1712&format=webm;mp4&vidspec#x')).toBe('?w=640;1280&format=webm;mp4')
    expect(directiveQuery('./hero.video?vidspec')).toBe('')
    expect(directiveQuery('./hero.video')).toBe('')
    expect(parseRenditionQuery(directiveQuery('./hero.video?w=640&vidspec'), 'main.ts')).toEqual(parseRenditionQuery('?w=640', 'main.ts'))
  })
})
