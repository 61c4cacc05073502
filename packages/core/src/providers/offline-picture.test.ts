import { describe, expect, it } from 'vitest'
import { pictureGraph } from './offline-picture.js'

const KEY = '0123456789abcdef'.repeat(4)
const frame = { width: 1280, height: 720, fps: 24, seconds: 6 }

function boxes(graph: string, colour: string): number {
  return graph.split(',').filter((f) => f.startsWith('drawbox=') && f.includes(`color=${colour}:`)).length
}

describe('pictureGraph', () => {
  it('spells the first eight digits of the key in seven segments on a dark plate', () => {
    const graph = pictureGraph({ key: KEY, ...frame })
    // 0..7 light 6+2+5+5+4+5+6+3 segments.
    expect(boxes(graph, 'white')).toBe(36)
    expect(boxes(graph, 'black@0.7')).toBe(1)
    expect(graph.endsWith('format=yuv420p[v]')).toBe(true)
  })

  it('derives the picture from the key alone', () => {
    expect(pictureGraph({ key: KEY, ...frame })).toBe(pictureGraph({ key: KEY, ...frame }))
    expect(pictureGraph({ key: KEY.replace('0', '1'), ...frame })).not.toBe(pictureGraph({ key: KEY, ...frame }))
  })

  it('labels a key that is not hex with digits of its hash', () => {
    const graph = pictureGraph({ key: 'not-a-hex-key', ...frame })
    expect(boxes(graph, 'white')).toBeGreaterThan(8)
  })

  it('leaves the label out of a frame too small to read it', () => {
    const graph = pictureGraph({ key: KEY, width: 32, height: 18, fps: 24, seconds: 1 })
    expect(boxes(graph, 'white')).toBe(0)
  })

  it("writes OFFLINE PREVIEW and the spec's name at the top, cut from the left when too long", () => {
    const graph = pictureGraph({ key: KEY, ...frame, name: 'hero' })
    expect(boxes(graph, 'yellow')).toBeGreaterThan(15)
    expect(boxes(graph, 'white@0.95')).toBeGreaterThan(8)
    expect(boxes(graph, 'black@0.6')).toBe(1)
    // Big enough to read: a font pixel is several screen pixels on a 720p frame.
    expect(graph).toMatch(/drawbox=x=\d+:y=\d+:w=\d+:h=5:color=yellow/)
    const long = pictureGraph({ key: KEY, width: 160, height: 90, fps: 10, seconds: 1, name: 'a-very-long-name-of-a-spec-that-does-not-fit' })
    const short = pictureGraph({ key: KEY, width: 160, height: 90, fps: 10, seconds: 1, name: 'b' })
    expect(boxes(long, 'white@0.95')).toBeGreaterThan(boxes(short, 'white@0.95'))
    expect(boxes(pictureGraph({ key: KEY, width: 32, height: 18, fps: 24, seconds: 1, name: 'hero' }), 'yellow')).toBe(0)
  })
})
