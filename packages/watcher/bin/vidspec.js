#!/usr/bin/env node
import { keepYoungGenerationSmall } from '../dist/heap.js'

// Before anything else is loaded: see src/heap.ts.
keepYoungGenerationSmall()
const { main } = await import('../dist/cli.js')

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
})
