import { execFile } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { cliPath, repoRoot, tempProject, type TempProject } from '../helpers/project.js'

// The vidspec process sets V8 flags of its own (packages/watcher/src/v8-flags.ts); a process that
// only loads vidspec keeps V8's own settings. Seen from inside each process by a preloaded probe:
// - the young generation is kept at its first size: the probe makes it want to grow (400,000 live
//   objects), then says how big it became;
// - TurboFan is off (Node 20 and 22) for every command but watch: the probe asks V8 to optimize a
//   function, then whether it did.

const run = promisify(execFile)
let dir: TempProject
let probe: string
let jitProbe: string

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
  jitProbe = dir.path('jit-probe.mjs')
  await dir.write(
    'jit-probe.mjs',
    `process.on('exit', () => {
  function hot(n) { let s = 0; for (let i = 0; i < n; i++) s += i; return s }
  // Semicolons: a line starting with % would continue the one before as a remainder.
  %PrepareFunctionForOptimization(hot);
  hot(10);
  hot(10);
  %OptimizeFunctionOnNextCall(hot);
  hot(10);
  // V8's OptimizationStatus: bit 6 is "optimized by TurboFan".
  process.stderr.write('TURBOFAN ' + ((%GetOptimizationStatus(hot) & 64) !== 0) + '\\n')
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

async function turbofan(args: string[]): Promise<boolean> {
  const { stderr } = await run(process.execPath, ['--allow-natives-syntax', '--import', pathToFileURL(jitProbe).href, ...args], { cwd: dir.root })
  const found = /TURBOFAN (true|false)/.exec(stderr)
  expect(found, stderr).not.toBeNull()
  return found?.[1] === 'true'
}

it('the vidspec process runs without TurboFan on Node 20 and 22, except in watch; a process that loads its CLI module keeps it', async () => {
  const cli = pathToFileURL(`${repoRoot}/packages/watcher/dist/cli.js`).href
  const [command, watch, loaded] = await Promise.all([
    turbofan([cliPath, '--version']),
    turbofan([cliPath, 'watch', '--help']),
    turbofan(['--input-type=module', '-e', `const { main } = await import(${JSON.stringify(cli)}); await main(['--version'])`]),
  ])
  const major = Number(process.versions.v8.split('.')[0])
  expect(command).toBe(!(major >= 11 && major <= 12))
  expect(watch).toBe(true)
  expect(loaded).toBe(true)
})
