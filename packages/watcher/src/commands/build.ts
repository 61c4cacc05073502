import { resolve } from 'node:path'
import { ExitCode, writeOutputs, type BuildResult } from '@vidspec/core'
import { commonOptions, intFlag, parse, providerFlag } from '../args.js'
import { printJson, formatMs, type Io } from '../output.js'
import { openProject } from '../project.js'
import { Reporter } from '../reporter.js'

export const buildHelp = `Usage: vidspec build [options]

Generates every new or changed *.video.ts spec and stores it in the cache; cached specs cost nothing.

Options:
  --root DIR            project root (default: current directory)
  --config FILE         config file (default: <root>/vidspec.config.ts)
  --provider NAME       together | offline (default: together when TOGETHER_API_KEY is set, else offline)
  --concurrency N       generations in flight at once (default: 4)
  --out DIR             also copy each clip to DIR/<spec name>.<ext> and write DIR/manifest.json
  --json                print the result as JSON on stdout
  -h, --help            show this help

Exit codes: 0 ok, 1 a generation failed, 2 bad spec/config/usage.`

export async function build(argv: string[], io: Io, signal: AbortSignal): Promise<number> {
  const { values } = parse('build', argv, {
    ...commonOptions,
    provider: { type: 'string' },
    concurrency: { type: 'string' },
    out: { type: 'string' },
  })
  if (values.help) {
    io.stdout.write(`${buildHelp}\n`)
    return ExitCode.ok
  }
  const provider = providerFlag('build', values.provider)
  const concurrency = intFlag('build', 'concurrency', values.concurrency, 1)
  const reporter = new Reporter(io)
  try {
    const project = await openProject(io, values, reporter, {
      ...(provider ? { provider } : {}),
      ...(concurrency ? { concurrency } : {}),
    })
    const started = performance.now()
    const result = await project.build({ signal })
    reporter.close()
    let manifestPath: string | undefined
    if (values.out) {
      const ok = result.items.flatMap((i) => (i.entry ? [{ id: i.id, name: i.name, entry: i.entry }] : []))
      manifestPath = (await writeOutputs(project.store, resolve(io.cwd, values.out), ok)).manifestPath
    }
    if (values.json) printJson(io, buildJson(result, project.provider.id, manifestPath))
    else io.stderr.write(`${summary(result)} in ${formatMs(performance.now() - started)}\n`)
    return buildExitCode(result)
  } finally {
    reporter.close()
  }
}

export function buildExitCode(result: BuildResult): number {
  if (result.counts.invalid > 0) return ExitCode.badInput
  if (result.counts.failed > 0) return ExitCode.generationFailed
  return ExitCode.ok
}

function summary(result: BuildResult): string {
  const c = result.counts
  return `vidspec: ${c.generated} generated, ${c.cached} cached, ${c.failed} failed, ${c.invalid} invalid`
}

function buildJson(result: BuildResult, provider: string, manifest: string | undefined) {
  return {
    provider,
    counts: result.counts,
    manifest,
    specs: result.items.map((i) => ({
      spec: i.id,
      name: i.name,
      status: i.status,
      key: i.key,
      durationMs: Math.round(i.durationMs),
      cost: i.entry?.cost,
      preview: i.entry?.preview,
      object: i.entry ? `${i.entry.digest}.${i.entry.ext}` : undefined,
      error: i.error ? { code: (i.error as { code?: string }).code, message: i.error.message } : undefined,
    })),
  }
}
