// The floor of a no-op plan: find the spec files, read them and the shared module, sha256 each.
// Nothing vidspec-specific; what any tool must at least do to know that nothing changed.
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

const [root, shared] = process.argv.slice(2)
const entries = await readdir(join(root, 'src'), { recursive: true })
const files = entries.filter((f) => f.endsWith('.video.ts')).map((f) => join(root, 'src', f))
files.push(shared)
let i = 0
const digests = []
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (i < files.length) {
      const f = files[i++]
      digests.push(createHash('sha256').update(await readFile(f)).digest('hex'))
    }
  }),
)
process.stdout.write(`${digests.length}\n`)
