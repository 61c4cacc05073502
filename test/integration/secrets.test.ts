import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { runCli, type CliResult, type TempProject } from '../helpers/project.js'
import { listFiles, togetherProject } from '../helpers/together.js'

// The API key must appear in no log line, error, record, report, journal or output file. The builds
// below go through every path that writes something (retries, failures, a rejected key, a server that
// echoes the key back, kept journals, a manifest), and then every byte they left behind is searched.

const API_KEY = 'tg-CANARY-4f0d2b9e8a7c6153e2d1'
const SPECS = 4

let fake: FakeTogether
let project: TempProject
const outputs: Array<{ what: string; text: string }> = []

async function cli(what: string, args: string[], apiKey = API_KEY): Promise<CliResult> {
  const r = await runCli(args, {
    cwd: project.root,
    env: { TOGETHER_API_KEY: apiKey, TOGETHER_BASE_URL: fake.baseURL, CI: undefined, VIDSPEC_DEBUG: '1' },
    timeoutMs: 60_000,
  })
  outputs.push({ what: `${what} stdout`, text: r.stdout }, { what: `${what} stderr`, text: r.stderr })
  return r
}

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 60 })
  project = await togetherProject(SPECS)
})
afterAll(async () => {
  await fake?.close()
  await project?.dispose()
})

describe('the API key is never written anywhere', () => {
  it('a build full of faults, some echoing the key back, fails cleanly', async () => {
    const echo = `invalid header "Authorization: Bearer ${API_KEY}"`
    fake
      .fault({ kind: 'rate-limit', retryAfterMs: 5, match: { prompt: 'clip 0' } })
      .fault({ kind: 'http-error', op: 'poll', status: 500, message: echo, match: { prompt: 'clip 0' } })
      .fault({ kind: 'download-drop', match: { prompt: 'clip 0' } })
      .fault({ kind: 'http-error', status: 400, message: echo, match: { prompt: 'clip 1' } })
      .fault({ kind: 'job-fails', message: `worker rejected ${API_KEY}`, match: { prompt: 'clip 2' } })
      .fault({ kind: 'auth', op: 'poll', match: { prompt: 'clip 3' } })
    const r = await cli('faulty build', ['build', '--json', '--out', 'out'])
    expect(r.code, r.stderr).toBe(1)
    const json = JSON.parse(r.stdout) as { specs: Array<{ spec: string; status: string; error?: { code: string } }> }
    const byspec = Object.fromEntries(json.specs.map((s) => [s.spec, s]))
    expect(byspec['clip-0.video.ts']?.status).toBe('generated')
    expect(byspec['clip-1.video.ts']?.error?.code).toBe('PROVIDER_BAD_REQUEST')
    expect(byspec['clip-2.video.ts']?.error?.code).toBe('JOB_FAILED')
    expect(byspec['clip-3.video.ts']?.error?.code).toBe('PROVIDER_AUTH')
    // The echoed text reached the messages, with the key taken out.
    expect(r.stderr).toContain('invalid header "Authorization: Bearer ***"')
    expect(r.stderr).toContain('worker rejected ***')
    expect(r.stderr).toContain('job:retry')
    expect(fake.pendingFaults()).toEqual([])
  })

  it('a key the server rejects (401 everywhere)', async () => {
    fake.options.apiKey = 'tg-the-server-wants-another-key'
    try {
      const r = await cli('rejected key', ['build', '--json'])
      expect(r.code).toBe(1)
      expect(r.stdout).toMatch(/PROVIDER_AUTH/)
      expect(r.stdout).toMatch(/TOGETHER_API_KEY/)
    } finally {
      fake.options.apiKey = API_KEY
    }
  })

  it('a rerun that finishes everything, then the reporting commands', async () => {
    const r = await cli('good build', ['build', '--json', '--out', 'out'])
    expect(r.code, r.stderr).toBe(0)
    for (const cmd of ['plan', 'status', 'verify']) await cli(cmd, [cmd, '--json'])
    expect(JSON.parse(await project.read('out/manifest.json'))).toBeTruthy()
  })

  it('appears in no file of the project (store, journals, records, manifest, clips) and no output', async () => {
    const files = await listFiles(project.root)
    expect(files.some((f) => f.startsWith('.vidspec/entries/'))).toBe(true)
    expect(files.some((f) => f.startsWith('.vidspec/specs/'))).toBe(true)
    expect(files).toContain('out/manifest.json')
    const needle = Buffer.from(API_KEY)
    const leaks: string[] = []
    for (const file of files) if ((await readFile(project.path(file))).includes(needle)) leaks.push(file)
    for (const { what, text } of outputs) {
      for (const line of text.split('\n')) if (line.includes(API_KEY)) leaks.push(`${what}: ${line}`)
    }
    expect(leaks).toEqual([])
    expect(outputs.length).toBeGreaterThanOrEqual(12)
    // The key went to the API host only, never to the result host.
    expect(fake.downloadsWithAuth).toBe(0)
  })

  it('is found by this search when it is there (the check itself works)', async () => {
    await project.write('.vidspec/tmp/canary.txt', `x${API_KEY}x`)
    const files = await listFiles(project.root)
    const hits = []
    for (const file of files) if ((await readFile(project.path(file))).includes(Buffer.from(API_KEY))) hits.push(file)
    expect(hits).toEqual(['.vidspec/tmp/canary.txt'])
  })
})
