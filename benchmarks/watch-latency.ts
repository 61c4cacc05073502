// Benchmark 3: `vidspec watch` over 1,000 specs; one spec edited 20 times, alternating an edit that
// changes its key (decision: queued, and the clip is made) with one that does not (a comment:
// unchanged). Latency = from the write to the decision line on the watcher's output, minus the
// debounce. Target: median ≤ 50 ms. Usage: tsx benchmarks/watch-latency.ts [specs] [edits]
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { benchEnv, cliPath, fail, fmt, median, report } from './lib/measure.js'
import { fillStore, generateProject, specSource } from './lib/project.js'

const SPECS = Number(process.argv[2] ?? 1000)
const EDITS = Number(process.argv[3] ?? 20)
const DEBOUNCE = 50

const project = await generateProject(SPECS)
// Every spec cached, as in a project being worked on; the watcher's first pass evaluates them all.
await fillStore(project.root)
const child = spawn(process.execPath, [cliPath, 'watch', '--debounce', String(DEBOUNCE)], {
  cwd: project.root,
  env: benchEnv(),
  stdio: ['ignore', 'pipe', 'pipe'],
})
const lines: Array<{ at: number; text: string }> = []
let buffered = ''
const onData = (d: Buffer) => {
  const at = performance.now()
  buffered += d.toString()
  const parts = buffered.split('\n')
  buffered = parts.pop() ?? ''
  for (const text of parts) lines.push({ at, text })
}
child.stdout.on('data', onData)
child.stderr.on('data', onData)

async function until(what: string, check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end || child.exitCode !== null) fail(`timed out waiting for ${what}:\n${lines.slice(-20).map((l) => l.text).join('\n')}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

try {
  const started = performance.now()
  await until('the first pass', () => lines.filter((l) => /^cached\s/.test(l.text)).length >= SPECS, 600_000)
  const firstPass = performance.now() - started
  const file = project.specFiles[0]!
  const id = 'clip-0.video.ts'
  const results: Array<{ kind: string; ms: number }> = []
  for (let i = 1; i <= EDITS; i++) {
    const keyChange = i % 2 === 1
    const kind = keyChange ? 'queued' : 'unchanged'
    const source = specSource(0, '../brand', keyChange ? `\n  negative_prompt: 'blur ${i}',` : '')
    const from = lines.length
    const at = performance.now()
    await writeFile(file, keyChange ? source : `${specSource(0, '../brand', `\n  negative_prompt: 'blur ${i - 1}',`)}// edit ${i}\n`)
    const re = new RegExp(`^${kind}\\s+\\S*${id.replace('.', '\\.')}`)
    await until(`decision ${kind} for edit ${i}`, () => lines.slice(from).some((l) => re.test(l.text)))
    const line = lines.slice(from).find((l) => re.test(l.text))!
    results.push({ kind, ms: line.at - at - DEBOUNCE })
    if (keyChange) await until(`the clip of edit ${i}`, () => lines.slice(from).some((l) => new RegExp(`^done\\s+\\S*${id.replace('.', '\\.')}`).test(l.text)))
    await new Promise((r) => setTimeout(r, 100))
  }
  const all = results.map((r) => r.ms)
  const of = (kind: string) => results.filter((r) => r.kind === kind).map((r) => r.ms)
  report(`Watch latency: ${SPECS} specs watched, ${EDITS} edits of one spec, debounce ${DEBOUNCE} ms (excluded)`, [
    ['median, write → decision', `${fmt(median(all))} (target ≤ 50 ms)`],
    ['  edits that change the key (queued)', `median ${fmt(median(of('queued')))}, max ${fmt(Math.max(...of('queued')))}`],
    ['  edits that do not (unchanged)', `median ${fmt(median(of('unchanged')))}, max ${fmt(Math.max(...of('unchanged')))}`],
    ['for comparison: start and first pass over every spec (memo warm)', fmt(firstPass)],
  ])
} finally {
  child.kill('SIGINT')
  await new Promise((r) => child.once('close', r))
  await project.dispose()
}
