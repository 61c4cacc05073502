import { createHash } from 'node:crypto'

/**
 * Which of `count` shards (0-based) a spec belongs to, from a hash of its id: the same on every
 * machine and unmoved when other specs are added or removed, so CI jobs split the work stably.
 */
export function specShard(specId: string, count: number): number {
  return createHash('sha256').update(specId).digest().readUInt32BE(0) % count
}
