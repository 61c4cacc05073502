/**
 * Runs the fake Together API by hand: `pnpm fake-together [--port 8787] [--job-ms 5000]
 * [--url-ttl-ms 600000] [--max-concurrent 4] [--quiet]`. The key it accepts is FAKE_TOGETHER_API_KEY
 * (default `test-key`).
 */
import { parseArgs } from 'node:util'
import { startFakeTogether } from './server.js'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.FAKE_TOGETHER_PORT ?? '0' },
    'job-ms': { type: 'string', default: '3000' },
    'url-ttl-ms': { type: 'string', default: '600000' },
    'max-concurrent': { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
})

function int(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer (got ${JSON.stringify(text)})`)
    process.exit(2)
  }
  return n
}

const apiKey = process.env.FAKE_TOGETHER_API_KEY || 'test-key'
const fake = await startFakeTogether({
  apiKey,
  port: int('port', values.port),
  jobDurationMs: int('job-ms', values['job-ms']),
  urlTtlMs: int('url-ttl-ms', values['url-ttl-ms']),
  maxConcurrentJobs: int('max-concurrent', values['max-concurrent']),
  log: values.quiet ? undefined : (line) => console.log(`[fake-together] ${line}`),
})

console.log(`fake Together video API listening on ${fake.url} (also under /v1 and /v2)`)
console.log('point vidspec at it with:')
console.log(`  export TOGETHER_BASE_URL=${fake.baseURL}`)
console.log(`  export TOGETHER_API_KEY=${apiKey}`)
console.log('Ctrl-C stops it.')

let stopping = false
const stop = () => {
  if (stopping) process.exit(130)
  stopping = true
  fake.close().then(() => process.exit(0), () => process.exit(1))
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
