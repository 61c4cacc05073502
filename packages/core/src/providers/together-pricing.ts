import type { NormalizedRequest } from '../types.js'

type Tier = '480p' | '720p' | '1080p' | '4k'

/**
 * Dollars per second of output, only where Together has published a price (changelog, 2026).
 * Everything else is unknown: a guess would make a budget guard lie.
 */
const PRICES: Record<string, Partial<Record<Tier, number>>> = {
  'bytedance/seedance-2.0': { '720p': 0.16, '1080p': 0.4, '4k': 0.836 },
  'alibaba/happyhorse-1.0-t2v': { '1080p': 0.24 },
}

function tierOf(req: NormalizedRequest): Tier | undefined {
  const resolution = req.resolution?.toLowerCase()
  if (resolution === '480p' || resolution === '720p' || resolution === '1080p' || resolution === '4k') return resolution
  if (req.width === undefined || req.height === undefined) return undefined
  const short = Math.min(req.width, req.height)
  return short === 480 ? '480p' : short === 720 ? '720p' : short === 1080 ? '1080p' : undefined
}

/** The cost Together would charge, when the model, the resolution and the duration are all known. */
export function estimateTogetherCost(req: NormalizedRequest): number | undefined {
  const prices = PRICES[req.model.toLowerCase()]
  const tier = tierOf(req)
  const perSecond = prices && tier ? prices[tier] : undefined
  const seconds = req.seconds === undefined ? NaN : Number(req.seconds)
  if (perSecond === undefined || !Number.isFinite(seconds) || seconds <= 0) return undefined
  return Math.round(perSecond * seconds * 10_000) / 10_000
}
