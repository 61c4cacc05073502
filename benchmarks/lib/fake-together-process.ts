// The fake Together server in a process of its own, so a benchmark's CPU figures are the client's
// alone. Prints its base URL as one JSON line, and stops when its stdin closes (its parent exited).
// Usage: node --import tsx benchmarks/lib/fake-together-process.ts '<FakeTogetherOptions as JSON>'
import { startFakeTogether } from '../../test/fake-together/server.js'

const fake = await startFakeTogether(JSON.parse(process.argv[2] ?? '{}') as Parameters<typeof startFakeTogether>[0])
process.stdout.write(`${JSON.stringify({ baseURL: fake.baseURL })}\n`)
process.stdin.resume()
process.stdin.on('close', () => void fake.close().then(() => process.exit(0)))
