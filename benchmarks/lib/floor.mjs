// The tight floor of a no-op plan (issue 17): a fresh `node` that lists the spec folder and reads
// every spec and the shared module synchronously, sha256-ing each. Nothing vidspec-specific and
// nothing more: the least any tool must do to know that no spec and no shared module changed.
// Usage: node floor.mjs <spec folder> <shared module>
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const [dir, shared] = process.argv.slice(2)
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.video.ts'))
  .map((f) => join(dir, f))
files.push(shared)
let digests = 0
for (const file of files) {
  createHash('sha256').update(readFileSync(file)).digest('hex')
  digests++
}
process.stdout.write(`${digests}\n`)
