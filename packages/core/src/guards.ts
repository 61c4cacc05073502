import { VidspecError } from './errors.js'
import { outputGeometry } from './media/geometry.js'
import type { ModelPrice } from './config/types.js'
import type { Provider, ProviderRequest } from './providers/types.js'
import type { Entry, NormalizedRequest } from './types.js'

/** Configured prices per lowercased model id (`prices` in the config). */
export type Prices = Readonly<Record<string, ModelPrice>>

export interface SpendLimits {
  /** CI: no paid generation at all; previews stay allowed (they cost nothing). */
  frozen?: boolean | undefined
  maxJobs?: number | undefined
  /** Dollars. */
  maxCost?: number | undefined
}

export interface Miss {
  spec: string
  request: ProviderRequest
  /** Why the approved clip cannot be used, when a lockfile approved one. */
  note?: string | undefined
}

/**
 * Decides, before any request, whether the generations a run needs are approved. Throws
 * FROZEN_MISS or BUDGET_EXCEEDED (exit 3) naming every spec, so nothing is spent on a run that
 * would stop half-way.
 */
export function checkSpend(provider: Provider, misses: Miss[], limits: SpendLimits, history: Entry[], prices: Prices = {}): void {
  if (misses.length === 0 || provider.preview) return
  const list = misses.map((m) => `  - ${m.spec}${m.note ? `: ${m.note}` : ''}`).join('\n')
  if (limits.frozen) {
    throw new VidspecError(
      'FROZEN_MISS',
      `--frozen: ${misses.length} spec${misses.length === 1 ? ' needs' : 's need'} a paid generation that nobody approved:\n${list}\n` +
        'Build them where spending is allowed (without --frozen / CI=true) and commit vidspec.lock.json, or restore the shared cache.',
    )
  }
  if (limits.maxJobs !== undefined && misses.length > limits.maxJobs) {
    throw new VidspecError(
      'BUDGET_EXCEEDED',
      `--max-jobs ${limits.maxJobs}: this run needs ${misses.length} generations:\n${list}\nNothing was started.`,
    )
  }
  if (limits.maxCost !== undefined) {
    const estimates = misses.map((m) => ({ spec: m.spec, cost: estimateCost(provider, m.request, history, prices) }))
    const unknown = estimates.filter((e) => e.cost === undefined).map((e) => e.spec)
    if (unknown.length > 0) {
      throw new VidspecError(
        'BUDGET_EXCEEDED',
        `--max-cost ${limits.maxCost}: no cost estimate for ${unknown.join(', ')} (Together publishes no price for its model, the config's \`prices\` has none, and the store has no earlier clip of it), so the budget cannot be guaranteed. Nothing was started; add the model to \`prices\` in vidspec.config.ts, or use --max-jobs instead.`,
      )
    }
    const total = estimates.reduce((sum, e) => sum + (e.cost ?? 0), 0)
    if (total > limits.maxCost) {
      const lines = estimates.map((e) => `  - ${e.spec}: ~$${(e.cost ?? 0).toFixed(2)}`).join('\n')
      throw new VidspecError(
        'BUDGET_EXCEEDED',
        `--max-cost ${limits.maxCost}: this run would cost about $${total.toFixed(2)}:\n${lines}\nNothing was started.`,
      )
    }
  }
}

/**
 * The config's price for the model (the user knows their contract best), else the provider's
 * published price, else what this store paid per second for the same model before, else undefined.
 */
export function estimateCost(provider: Provider, req: ProviderRequest, history: Entry[], prices: Prices = {}): number | undefined {
  if (provider.kind === 'local') return 0
  const configured = configuredCost(prices, req.request)
  if (configured !== undefined) return configured
  const priced = provider.estimateCost?.(req)
  if (priced !== undefined) return priced
  const seconds = outputGeometry(req.request).seconds
  const past = history.filter((e) => e.provider === provider.id && e.model === req.request.model && e.cost !== undefined && e.duration > 0)
  if (past.length === 0) return undefined
  const perSecond = past.reduce((sum, e) => sum + (e.cost ?? 0) / e.duration, 0) / past.length
  return perSecond * seconds
}

/**
 * The cost a `prices` entry gives a request: per video, or per second times the clip's length, from
 * one number or the entry for the clip's resolution (`1366x768`, then `768p`, then `720p`-style
 * names of the request's `resolution`). Undefined when the model or its resolution is not listed.
 */
export function configuredCost(prices: Prices, request: NormalizedRequest): number | undefined {
  const price = prices[request.model.toLowerCase()]
  if (!price) return undefined
  const { width, height, seconds } = outputGeometry(request)
  const table = price.perSecond ?? price.perVideo
  const names = [`${width}x${height}`, `${Math.min(width, height)}p`, ...(request.resolution ? [request.resolution.toLowerCase()] : [])]
  const lookup = (t: Record<string, number>) => {
    const byName = new Map(Object.entries(t).map(([k, v]) => [k.toLowerCase().replace(/\s+/g, ''), v] as const))
    for (const name of names) {
      const v = byName.get(name)
      if (v !== undefined) return v
    }
    return undefined
  }
  const amount = typeof table === 'number' ? table : table === undefined ? undefined : lookup(table)
  if (amount === undefined) return undefined
  return Math.round((price.perSecond !== undefined ? amount * seconds : amount) * 10_000) / 10_000
}
