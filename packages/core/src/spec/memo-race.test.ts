import { createHash } from 'node:crypto'
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Vidspec } from '../project.js'

// Issue 19.1: a shared module saved while a spec that imports it is being evaluated. The spec's
// top-level await asks a gate (a local HTTP server); the gate saves the new text before it answers,
// so the save lands inside the evaluation every time, with no timing involved.

let root: string
let gate: Server
let gateHits = 0
let onGate: () => Promise<void> = async () => {}

const sha = (text: string) => createHash('sha256').update(text).digest('hex')
const OLD = `export const look = 'old'\n`
const NEW = `export const look = 'new'\n`

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'vidspec-race-')))
  gateHits = 0
  gate = createServer((_req, res) => {
    gateHits++
    void onGate().then(() => res.writeHead(200, { connection: 'close' }).end('go'))
  })
  await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r))
  const { port } = gate.address() as AddressInfo
  await writeFile(join(root, 'shared.ts'), OLD)
  await writeFile(
    join(root, 'hero.video.ts'),
    `import { defineVideo } from '@vidspec/core'
import { look } from './shared'
await (await fetch('http://127.0.0.1:${port}/gate')).text()
export default defineVideo({ model: 'minimax/hailuo-02', prompt: \`hero \${look}\`, seconds: 1, width: 160, height: 90 })
`,
  )
})

afterEach(async () => {
  await new Promise((r) => gate.close(r))
  await rm(root, { recursive: true, force: true })
})

async function load(): Promise<{ prompt: string | undefined; depHashes: Record<string, string>; key: string | undefined }> {
  const vs = await Vidspec.open({ root, env: {}, overrides: { provider: 'offline' } })
  const [result] = await vs.loadAll()
  if (!result?.spec) throw result?.error ?? new Error('no result')
  return { prompt: result.spec.request.prompt, depHashes: result.spec.depHashes, key: result.spec.key }
}

describe('the memo under a save during evaluation', () => {
  it('records the hashes of the bytes evaluated, so the next load sees the save', async () => {
    onGate = () => writeFile(join(root, 'shared.ts'), NEW)
    const first = await load()
    // The evaluation saw the old text, and says so.
    expect(first.prompt).toBe('hero old')
    expect(first.depHashes[join(root, 'shared.ts')]).toBe(sha(OLD))
    expect(gateHits).toBe(1)

    onGate = async () => {}
    const second = await load()
    // Not served from the memo under the new text's hash: evaluated again, with the new text.
    expect(gateHits).toBe(2)
    expect(second.prompt).toBe('hero new')
    expect(second.key).not.toBe(first.key)
    expect(second.depHashes[join(root, 'shared.ts')]).toBe(sha(NEW))

    // And now that nothing changes, the memo answers.
    const third = await load()
    expect(gateHits).toBe(2)
    expect(third).toEqual(second)
  })
})
