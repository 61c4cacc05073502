#!/usr/bin/env node
// A no-op plan is answered before the CLI loads, when it can be: see src/plan-replay.ts.
const argv = process.argv.slice(2)
let code
if (argv[0] === 'plan') {
  const [{ replayPlan }, { defaultIo }] = await Promise.all([import('../dist/plan-replay.js'), import('../dist/output.js')])
  code = replayPlan(argv.slice(1), defaultIo())
}
if (code !== undefined) process.exitCode = code
else {
  const { keepYoungGenerationSmall, skipOptimizingCompiler } = await import('../dist/v8-flags.js')
  // Before the CLI is loaded: see src/v8-flags.ts.
  keepYoungGenerationSmall()
  skipOptimizingCompiler(argv[0])
  const { main } = await import('../dist/cli.js')
  main(argv).then((exit) => {
    process.exitCode = exit
  })
}
