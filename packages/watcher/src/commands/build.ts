import { writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { ExitCode, specShard, type BuildResult } from '@vidspec/core'
import { commonOptions, intFlag, moneyFlag, parse, providerFlag, shardFlag } from '../args.js'
import { printJson, formatMs, type Io } from '../output.js'
import { helpDefaults, here, type HelpDefaults } from '../help.js'
import { noSpecsMessage, openProject } from '../project.js'
import { Reporter } from '../reporter.js'

export function buildHelp(d: HelpDefaults | undefined): string {
  return `Usage: vidspec build [options]

Generates every new or changed *.video.ts spec and stores it in the cache; cached specs cost nothing.
Paid clips are recorded in vidspec.lock.json (commit it): teammates and CI then use the approved clip,
with or without TOGETHER_API_KEY (the key is needed only for a new generation).

Options:
  --root DIR            project root (default: the nearest folder upward with a vidspec.config.*,
                        up to the repository root, else the current directory${d ? `; here: ${d.root}` : ''})
  --config FILE         config file (default: <root>/vidspec.config.{ts,mts,js,mjs})
  --provider NAME       together | offline (default: the config's provider; 'auto' is together when the
                        lockfile or the cache holds paid clips or TOGETHER_API_KEY is set${here(d?.provider)})
  --concurrency N       generations in flight at once (default: the config's, 4${here(d?.concurrency)})
  --out DIR             also copy each clip to DIR/<spec path without .video.ts>.<ext> (e.g.
                        DIR/src/videos/hero.mp4), its renditions and posters beside it
                        (hero.<id>.<ext>: hero.mp4-1366w.mp4, hero.poster-0s-jpg.jpg; made with ffmpeg
                        from the clip where missing, as the config's \`renditions\` and the spec's say)
                        and write DIR/manifest.json listing them; shipping offline previews
                        this way follows the config's previews policy like vite build (allow | warn |
                        error, error when CI=true${here(d?.previews)}): 'error' writes nothing and exits 3
  --frozen              forbid paid generation: a spec with no cached clip stops the run (exit 3)
                        before any request (default when CI=true; --no-frozen to allow${here(d?.frozen)})
  --max-jobs N          refuse (exit 3, nothing started) when more than N paid generations are needed
  --max-cost DOLLARS    refuse (exit 3, nothing started) when the estimated cost exceeds DOLLARS; prices
                        come from the config's \`prices\`, Together's published prices, then earlier clips
                        of the model in the store; no estimate for a spec means nothing is started
  --report FILE         write a JSON report (per spec: key, status, duration, cost, error)
  --retry-uncertain     create again for specs whose earlier create may have started an unknown job
  --shard I/N           build only part I of N (1 <= I <= N) of the specs, split by a hash of each
                        spec's path: N CI jobs with I = 1..N cover every spec exactly once
  --json                print the result as JSON on stdout
  -h, --help            show this help

Without TOGETHER_API_KEY a spec that needs a new paid generation fails with PROVIDER_AUTH naming it
(exit 1); under --frozen / CI=true it stops the run first (exit 3).
Exit codes: 0 ok, 1 a generation failed, 2 bad spec/config/usage, 3 --frozen/--max-*/previews refused.`
}

export async function build(argv: string[], io: Io, signal: AbortSignal): Promise<number> {
  const { values } = parse('build', argv, {
    ...commonOptions,
    provider: { type: 'string' },
    concurrency: { type: 'string' },
    out: { type: 'string' },
    frozen: { type: 'boolean' },
    'max-jobs': { type: 'string' },
    'max-cost': { type: 'string' },
    report: { type: 'string' },
    'retry-uncertain': { type: 'boolean' },
    shard: { type: 'string' },
  })
  if (values.help) {
    io.stdout.write(`${buildHelp(await helpDefaults(io, values))}\n`)
    return ExitCode.ok
  }
  const provider = providerFlag('build', values.provider)
  const concurrency = intFlag('build', 'concurrency', values.concurrency, 1)
  const maxJobs = intFlag('build', 'max-jobs', values['max-jobs'], 0)
  const maxCost = moneyFlag('build', 'max-cost', values['max-cost'])
  const shard = shardFlag('build', values.shard)
  const reporter = new Reporter(io)
  try {
    const project = await openProject(
      io,
      values,
      reporter,
      { ...(provider ? { provider } : {}), ...(concurrency ? { concurrency } : {}) },
      { retryUncertain: Boolean(values['retry-uncertain']) },
    )
    const started = performance.now()
    let files: string[] | undefined
    let shardInfo: ShardInfo | undefined
    const all = await project.discover()
    if (all.length === 0) {
      // Nothing to build: no store is created for it.
      io.stderr.write(`vidspec build: ${noSpecsMessage(project)}\n`)
      if (values.json) printJson(io, buildJson({ items: [], counts: { cached: 0, generated: 0, failed: 0, invalid: 0, blocked: 0 } }, project.provider.id, undefined, undefined))
      return ExitCode.ok
    }
    if (values.out && project.refusesToShip(undefined)) {
      // Like vite build: a build whose output would be all previews is refused before rendering any.
      const refusal = project.previewsVerdict(all.map((f) => project.specId(f)), 'vidspec build --out').error
      if (refusal) {
        reporter.error(refusal)
        if (values.json) printJson(io, { provider: project.provider.id, refused: { code: 'PREVIEWS_REFUSED', message: refusal } })
        return ExitCode.frozenMiss
      }
    }
    await project.ensureStore()
    if (shard) {
      files = all.filter((f) => specShard(project.specId(f), shard.count) === shard.index - 1)
      shardInfo = { ...shard, specs: files.length, of: all.length }
      if (!values.json) io.stderr.write(`vidspec: shard ${shard.index}/${shard.count}: ${files.length} of ${all.length} specs\n`)
    }
    const result = await project.build({ signal, frozen: values.frozen, maxJobs, maxCost, ...(files ? { files } : {}) })
    reporter.close()
    let manifestPath: string | undefined
    let refused: string | undefined
    if (values.out && !result.blocked) {
      const ok = result.items.flatMap((i) => (i.entry ? [{ id: i.id, name: i.name, entry: i.entry, renditions: i.renditions }] : []))
      // The same `previews` policy as `vite build`: --out is a way of shipping.
      const verdict = project.previewsVerdict(ok.filter((i) => i.entry.preview).map((i) => i.id), 'vidspec build --out')
      refused = verdict.error
      if (verdict.error) reporter.error(verdict.error)
      else {
        if (verdict.warning) reporter.warn(verdict.warning)
        if (verdict.info) reporter.info(verdict.info)
        const written = await project.writeOutputs(resolve(io.cwd, values.out), ok, { signal })
        manifestPath = written.manifestPath
        // A clip that failed its hash on the way out fails its spec: nothing corrupt was copied.
        for (const { id, error } of written.failed) {
          const item = result.items.find((i) => i.id === id)
          if (!item) continue
          result.counts[item.status]--
          item.status = 'failed'
          item.error = error
          delete item.entry
          result.counts.failed++
          io.stderr.write(`vidspec: ${error.message}\n`)
        }
      }
    }
    const json = { ...buildJson(result, project.provider.id, manifestPath, shardInfo), ...(refused ? { refused: { code: 'PREVIEWS_REFUSED', message: refused } } : {}) }
    if (values.report) await writeFile(resolve(io.cwd, values.report), `${JSON.stringify(json, null, 2)}\n`)
    if (values.json) printJson(io, json)
    else io.stderr.write(`${summary(result)} in ${formatMs(performance.now() - started)}\n`)
    return refused ? ExitCode.frozenMiss : buildExitCode(result)
  } finally {
    reporter.close()
  }
}

export function buildExitCode(result: BuildResult): number {
  if (result.counts.invalid > 0) return ExitCode.badInput
  if (result.blocked) return ExitCode.frozenMiss
  if (result.counts.failed > 0) return ExitCode.generationFailed
  return ExitCode.ok
}

function summary(result: BuildResult): string {
  const c = result.counts
  const blocked = c.blocked > 0 ? `, ${c.blocked} blocked (nothing was started)` : ''
  return `vidspec: ${c.generated} generated, ${c.cached} cached, ${c.failed} failed, ${c.invalid} invalid${blocked}`
}

/** Which part of the specs a `--shard i/n` build took: `specs` of the `of` discovered. */
interface ShardInfo {
  index: number
  count: number
  specs: number
  of: number
}

function buildJson(result: Pick<BuildResult, 'items' | 'counts'> & Partial<BuildResult>, provider: string, manifest: string | undefined, shard: ShardInfo | undefined) {
  return {
    provider,
    shard,
    counts: result.counts,
    blocked: result.blocked ? { code: result.blocked.code, message: result.blocked.message } : undefined,
    lockfileUpdated: result.lockfileUpdated,
    manifest,
    specs: result.items.map((i) => ({
      spec: i.id,
      name: i.name,
      status: i.status,
      cached: i.status === 'cached',
      generated: i.status === 'generated',
      key: i.key,
      durationMs: Math.round(i.durationMs),
      cost: i.entry?.cost,
      preview: i.entry?.preview,
      object: i.entry ? `${i.entry.digest}.${i.entry.ext}` : undefined,
      error: i.error ? { code: (i.error as { code?: string }).code, message: i.error.message } : undefined,
    })),
  }
}
