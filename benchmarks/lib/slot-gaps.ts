// What keeps a provider slot idle between one job and the next, read from the fake server's own
// log: how late the client's polls see each job done, and how long from that poll to the create
// that takes the freed slot. The two add up to the server-side window's excess over the ideal.

export interface SlotGaps {
  /** Mean, per job seen done: the first poll at or after its end, minus its end. */
  lateMs: number
  /**
   * Mean, per slot freed: the create that took it minus the poll that saw it freed. The k-th job
   * seen done frees the slot the (k + limit)-th create takes, as with a client running `limit` jobs.
   */
  seenToCreateMs: number
}

interface Job {
  id: string
  createdAt: number
  durationMs: number
}

interface Request {
  route: string
  path: string
  at: number
}

export function slotGaps(jobs: readonly Job[], log: readonly Request[], limit: number): SlotGaps {
  const polls = new Map<string, number[]>()
  for (const r of log) {
    if (r.route !== 'GET /videos/:id') continue
    const id = r.path.slice(r.path.lastIndexOf('/') + 1)
    const list = polls.get(id) ?? []
    list.push(r.at)
    polls.set(id, list)
  }
  const seen: number[] = []
  let late = 0
  for (const job of jobs) {
    const end = job.createdAt + job.durationMs
    const first = polls
      .get(job.id)
      ?.filter((at) => at >= end)
      .reduce((a, b) => Math.min(a, b), Infinity)
    if (first === undefined || first === Infinity) continue
    seen.push(first)
    late += first - end
  }
  seen.sort((a, b) => a - b)
  const creates = jobs.map((j) => j.createdAt).sort((a, b) => a - b)
  let gap = 0
  let pairs = 0
  for (let k = 0; k + limit < creates.length && k < seen.length; k++) {
    gap += (creates[k + limit] ?? 0) - (seen[k] ?? 0)
    pairs++
  }
  return { lateMs: seen.length ? late / seen.length : 0, seenToCreateMs: pairs ? gap / pairs : 0 }
}
