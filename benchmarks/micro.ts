// In-process parts of a no-op plan, with tinybench: the cache key of one spec, its canonical JSON,
// and the spec memo's check of 1,000 specs against the sha256 floor of the same files. And one poll
// of a Together job (the request a job makes most often) against a bare fetch of the same URL. And
// the probe of a paid clip with sound before it is committed, in this process and by ffprobe.
// Usage: tsx benchmarks/micro.ts
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { Agent, get } from 'node:http'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Bench } from 'tinybench'
import { Vidspec, togetherProvider } from '@vidspec/core'
import { canonicalJson, computeKey, ffmpegPath, hashFiles, probeClip, probeVideo } from '@vidspec/core/internal'
import { interleaveAll, median, ratio, repoRoot, report } from './lib/measure.js'
import { fillStore, generateProject } from './lib/project.js'

const project = await generateProject(1000)
try {
  await fillStore(project.root)
  const vs = await Vidspec.open({ root: project.root })
  const loaded = await vs.loadAll()
  const spec = loaded[0]!.spec!
  const files = [...project.specFiles, project.shared]

  const bench = new Bench({ time: 500 })
  bench
    .add('floor: read + sha256 of 1,001 files (sync)', () => {
      for (const f of files) createHash('sha256').update(readFileSync(f)).digest('hex')
    })
    .add('hashFiles of the same 1,001 files', async () => {
      await hashFiles(files)
    })
    .add('loadAll of 1,000 unchanged specs (memo)', async () => {
      await vs.loadAll(project.specFiles)
    })
    .add('canonicalJson of one request', () => {
      canonicalJson(spec.request)
    })
    .add('computeKey of one spec', () => {
      computeKey({ provider: spec.provider, request: spec.request, media: spec.media })
    })
  await bench.run()
  const meanOf = (t: (typeof bench.tasks)[number]): number => {
    const r = t.result
    if (!r || !('latency' in r)) throw new Error(`${t.name}: no result (${r?.state ?? 'not run'})`)
    return r.latency.mean
  }
  const floor = meanOf(bench.tasks[0]!)
  report(
    'Micro (tinybench, mean per call; ratios against the floor of reading and hashing the files)',
    bench.tasks.map((t) => {
      const ms = meanOf(t)
      return [t.name, `${ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`}${ms > 1 ? `  = ${(ms / floor).toFixed(2)}× the floor` : ''}`]
    }),
  )
} finally {
  await project.dispose()
}

// One poll: the client's CPU for the provider's whole path (request, reading the job, the SDK's
// error classes on failure) against the least any client must spend, a GET of the same URL on
// Node's own client (one kept-alive socket) with its JSON parsed; fetch's cost beside them. The fake
// server runs in a process of its own, so its CPU is in none of the figures.
{
  const KEY = 'tg-bench-0123456789abcdef'
  const server = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'benchmarks/lib/fake-together-process.ts'), JSON.stringify({ apiKey: KEY, jobDurationMs: 3_600_000 })], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  try {
    const [line] = (await once(createInterface({ input: server.stdout! }), 'line')) as [string]
    const { baseURL } = JSON.parse(line) as { baseURL: string }
    const provider = togetherProvider({ apiKey: KEY, baseURL })
    const request = { model: 'minimax/hailuo-02', prompt: 'a harbour at dawn', width: 1366, height: 768, seconds: '6' }
    const job = await provider.create({ spec: 'bench.video.ts', key: 'k', request, media: [] } as never, {})
    const url = `${baseURL}/videos/${job.id}`
    const headers = { authorization: `Bearer ${KEY}`, accept: 'application/json' }
    const CALLS = 2000
    const cpuPerCall = async (call: () => Promise<unknown>): Promise<number> => {
      for (let i = 0; i < 100; i++) await call()
      const before = process.cpuUsage()
      for (let i = 0; i < CALLS; i++) await call()
      const used = process.cpuUsage(before)
      return (used.user + used.system) / 1000 / CALLS
    }
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const bare = (): Promise<unknown> =>
      new Promise((resolve, reject) => {
        get(url, { headers, agent }, (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))))
          res.on('error', reject)
        }).on('error', reject)
      })
    const [floors = [], polls = [], fetches = []] = await interleaveAll(7, [
      () => cpuPerCall(bare),
      () => cpuPerCall(() => provider.poll(job.id, {})),
      () => cpuPerCall(async () => (await fetch(url, { headers })).json()),
    ])
    agent.destroy()
    const [floor, poll, viaFetch] = [median(floors), median(polls), median(fetches)]
    report(`One poll of a Together job: client CPU per call (medians of 7 alternating rounds of ${CALLS}, server in its own process)`, [
      ['floor: http.get + JSON of the same URL', `${(floor * 1000).toFixed(0)} µs`],
      ['togetherProvider().poll', `${(poll * 1000).toFixed(0)} µs  = ${ratio(poll, floor)} the floor`],
      ['for comparison: fetch + JSON', `${(viaFetch * 1000).toFixed(0)} µs  = ${ratio(viaFetch, floor)} the floor`],
    ])
  } finally {
    server.stdin!.end()
    await once(server, 'exit')
  }
}

// Committing a paid clip probes it first (its shape, and that it is whole). A clip with sound, which
// audio-generating models send, used to go to ffprobe; plain AAC LC is now read in this process.
// Client CPU per probe (this process and its children) against the floor every commit pays anyway:
// reading the file and sha256-ing it.
{
  const dir = await mkdtemp(join(tmpdir(), 'vidspec-micro-probe-'))
  try {
    const file = join(dir, 'sound.mp4')
    const encode = ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=24:d=5', '-f', 'lavfi', '-i', 'sine=d=5']
    const made = spawnSync(ffmpegPath(), [...encode, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', file])
    if (made.status !== 0) throw new Error(`ffmpeg could not make the clip: ${made.stderr.toString()}`)
    /** CPU of this process (µs precision) and of its waited-for children (/proc: clock ticks of 10 ms), in ms. */
    const cpu = (): number => {
      const own = process.cpuUsage()
      const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')
      return (own.user + own.system) / 1000 + (Number(fields[13]) + Number(fields[14])) * 10
    }
    const perCall = async (calls: number, call: () => Promise<unknown>): Promise<number> => {
      for (let i = 0; i < 3; i++) await call()
      const before = cpu()
      for (let i = 0; i < calls; i++) await call()
      return (cpu() - before) / calls
    }
    const shape = await probeClip(file)
    if ('hasAudio' in shape) throw new Error('PRECONDITION FAILED: the clip with sound went to ffprobe')
    const [floors = [], inProcess = [], ffprobe = []] = await interleaveAll(5, [
      () => perCall(40, async () => createHash('sha256').update(readFileSync(file)).digest('hex')),
      () => perCall(40, () => probeClip(file)),
      () => perCall(10, () => probeVideo(file)),
    ])
    const [floor, own, viaFfprobe] = [median(floors), median(inProcess), median(ffprobe)]
    const size = `${(readFileSync(file).length / 1e6).toFixed(1)} MB`
    report(`Probing a 5 s 720p clip with AAC sound (${size}) before commit: client CPU per probe, this process and its children (medians of 5 alternating rounds)`, [
      ['floor: read + sha256 of the file', `${floor.toFixed(2)} ms`],
      ['probeClip (in this process)', `${own.toFixed(2)} ms  = ${ratio(own, floor)} the floor`],
      ['for comparison: ffprobe, as before', `${viaFfprobe.toFixed(2)} ms  = ${ratio(viaFfprobe, floor)} the floor`],
    ])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
