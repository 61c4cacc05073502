import { execFile } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { cliPath, repoRoot, tempProject, type TempProject } from '../helpers/project.js'

// The vidspec process keeps V8's young generation at its first size (packages/watcher/src/heap.ts);
// a process that only loads vidspec keeps V8's own settings. Seen from inside each process: a
// preloaded probe makes the young generation want to grow (400,000 live objects), then says how big
// it became.

const run = promisify(execFile)
let dir: TempProject
let probe: string

beforeAll(async () => {
  dir = await tempProject()
  probe = dir.path('probe.mjs')
  await dir.write(
    'probe.mjs',
    `import { getHeapSpaceStatistics } from 'node:v8'
process.on('exit', () => {
  const live = []
  for (let i = 0; i < 400_000; i++) live.push({ i, s: 'x' + i })
  const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')
  process.stderr.write('YOUNG ' + young.space_size + ' ' + live.length + '\\n')
})
`,
  )
})
afterAll(async () => {
  await dir.dispose()
})

async function youngBytes(args: string[]): Promise<number> {
  const { stdout, stderr } = await run(process.execPath, ['--import', pathToFileURL(probe).href, ...args], { cwd: dir.root })
  expect(stdout).toMatch(/^\d+\.\d+\.\d+/)
  const found = /YOUNG (\d+) 400000/.exec(stderr)
  expect(found, stderr).not.toBeNull()
  return Number(found?.[1])
}

it('the vidspec process keeps the young generation small; a process that loads its CLI module does not', async () => {
  const cli = pathToFileURL(`${repoRoot}/packages/watcher/dist/cli.js`).href
  const [own, loaded] = await Promise.all([
    youngBytes([cliPath, '--version']),
    youngBytes(['--input-type=module', '-e', `const { main } = await import(${JSON.stringify(cli)}); await main(['--version'])`]),
  ])
  expect(own).toBeLessThanOrEqual(4 << 20)
  expect(loaded).toBeGreaterThanOrEqual(4 * own)
})
