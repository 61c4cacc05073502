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

/** A process that loads the CLI's module and runs `--version` through it, without the bin. */
const loadingCli = () => {
  const cli = pathToFileURL(`${repoRoot}/packages/watcher/dist/cli.js`).href
  return ['--input-type=module', '-e', `const { main } = await import(${JSON.stringify(cli)}); await main(['--version'])`]
}

/** Runs `node` with `file` preloaded; what the probe's report on exit matched, and the stdout. */
async function probed(file: string, args: string[], report: RegExp, nodeArgs: string[] = []): Promise<{ stdout: string; value: string | undefined }> {
  const { stdout, stderr } = await run(process.execPath, [...nodeArgs, '--import', pathToFileURL(file).href, ...args], { cwd: dir.root })
  const found = report.exec(stderr)
  expect(found, stderr).not.toBeNull()
  return { stdout, value: found?.[1] }
}

async function youngBytes(args: string[]): Promise<number> {
  const { stdout, value } = await probed(probe, args, /YOUNG (\d+) 400000/)
  expect(stdout).toMatch(/^\d+\.\d+\.\d+/)
  return Number(value)
}

it('the vidspec process keeps the young generation small; a process that loads its CLI module does not', async () => {
  const [own, loaded] = await Promise.all([youngBytes([cliPath, '--version']), youngBytes(loadingCli())])
  expect(own).toBeLessThanOrEqual(4 << 20)
  expect(loaded).toBeGreaterThanOrEqual(4 * own)
})

async function turbofan(args: string[]): Promise<boolean> {
  return (await probed(jitProbe, args, /TURBOFAN (true|false)/, ['--allow-natives-syntax'])).value === 'true'
}

it('the vidspec process runs without TurboFan on Node 20 and 22, except in watch; a process that loads its CLI module keeps it', async () => {
  const [command, watch, loaded] = await Promise.all([turbofan([cliPath, '--version']), turbofan([cliPath, 'watch', '--help']), turbofan(loadingCli())])
  const major = Number(process.versions.v8.split('.')[0])
  expect(command).toBe(!(major >= 11 && major <= 12))
  expect(watch).toBe(true)
  expect(loaded).toBe(true)
})
