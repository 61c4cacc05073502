import { describe, expect, it } from 'vitest'
import { specShard } from './shard.js'

describe('specShard', () => {
  const ids = Array.from({ length: 300 }, (_, i) => `pages/clip-${i}.video.ts`)

  it('puts every spec in exactly one shard in range, and spreads them', () => {
    const sizes = [0, 0, 0]
    for (const id of ids) {
      const s = specShard(id, 3)
      expect(s).toBeGreaterThanOrEqual(0)
      expect(s).toBeLessThan(3)
      sizes[s] = (sizes[s] ?? 0) + 1
    }
    for (const n of sizes) expect(n).toBeGreaterThan(60)
  })

  it('depends on the id only, not on the order or the other specs', () => {
    const forward = ids.map((id) => specShard(id, 4))
    const alone = [...ids].reverse().map((id) => specShard(id, 4)).reverse()
    expect(alone).toEqual(forward)
  })
})
