import { describe, expect, it } from 'vitest'
import { describeUnknown, sniffMedia } from './sniff.js'

const bytes = (...parts: Array<string | number[]>): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))))

describe('sniffMedia', () => {
  it.each([
    ['PNG', bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'IHDR'), 'image/png', 'image'],
    ['JPEG', bytes([0xff, 0xd8, 0xff, 0xe0]), 'image/jpeg', 'image'],
    ['GIF89a', bytes('GIF89a'), 'image/gif', 'image'],
    ['GIF87a', bytes('GIF87a'), 'image/gif', 'image'],
    ['WebP', bytes('RIFF', [1, 2, 3, 4], 'WEBPVP8 '), 'image/webp', 'image'],
    ['WAV', bytes('RIFF', [1, 2, 3, 4], 'WAVEfmt '), 'audio/wav', 'audio'],
    ['MP3 with ID3', bytes('ID3', [4, 0]), 'audio/mpeg', 'audio'],
    ['MP3 frame', bytes([0xff, 0xfb, 0x90, 0x64]), 'audio/mpeg', 'audio'],
    ['MP4', bytes([0, 0, 0, 0x20], 'ftypisom'), 'video/mp4', 'video'],
    ['QuickTime', bytes([0, 0, 0, 0x14], 'ftypqt  '), 'video/quicktime', 'video'],
    ['WebM', bytes([0x1a, 0x45, 0xdf, 0xa3]), 'video/webm', 'video'],
  ])('knows %s', (_name, head, mime, kind) => {
    expect(sniffMedia(head)).toMatchObject({ mime, kind })
  })

  it.each([
    ['text', bytes('this is text, not a PNG\n')],
    ['HTML', bytes('<!doctype html><html>')],
    ['an empty file', bytes()],
    ['RIFF of another form', bytes('RIFF', [1, 2, 3, 4], 'AVI LIST')],
    ['a reserved MPEG version', bytes([0xff, 0xe9, 0, 0])],
    ['a truncated PNG signature', bytes([0x89, 0x50, 0x4e])],
  ])('refuses %s', (_name, head) => {
    expect(sniffMedia(head)).toBeUndefined()
  })

  it('describes what unknown bytes look like', () => {
    expect(describeUnknown(bytes('hello'))).toBe('its bytes look like text')
    expect(describeUnknown(bytes())).toBe('it is empty')
    expect(describeUnknown(bytes([0, 1, 2, 3]))).toMatch(/start with 00010203/)
  })
})
