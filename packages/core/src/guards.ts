import { VidspecError } from './errors.js'
import { outputGeometry } from './media/geometry.js'
import type { Provider, ProviderRequest } from './providers/types.js'
import type { Entry } from './types.js'

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
export function checkSpend(provider: Provider, misses: Miss[], limits: SpendLimits, history: Entry[]): void {
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
    const estimates = misses.map((m) => ({ spec: m.spec, cost: estimateCost(provider, m.request, history) }))
    const unknown = estimates.filter((e) => e.cost === undefined).map((e) => e.spec)
    if (unknown.length > 0) {
      throw new VidspecError(
        'BUDGET_EXCEEDED',
        `--max-cost ${limits.maxCost}: no cost estimate for ${unknown.join(', ')} (no price known for the model and no earlier clip of it in the store), so the budget cannot be guaranteed. Nothing was started; use --max-jobs instead.`,
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
 * The provider's own price where it knows one, else what this store paid per second for the same
 * model before (real invoices beat guesses), else undefined.
 */
export function estimateCost(provider: Provider, req: ProviderRequest, history: Entry[]): number | undefined {
  if (provider.kind === 'local') return 0
  const priced = provider.estimateCost?.(req)
  if (priced !== undefined) return priced
  const seconds = outputGeometry(req.request).seconds
  const past = history.filter((e) => e.provider === provider.id && e.model === req.request.model && e.cost !== undefined && e.duration > 0)
  if (past.length === 0) return undefined
  const perSecond = past.reduce((sum, e) => sum + (e.cost ?? 0) / e.duration, 0) / past.length
  return perSecond * seconds
}
