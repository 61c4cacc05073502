import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startFakeTogether, type FakeTogether } from '../fake-together/server.js'
import { sharedBucketRig, startTestS3, type SharedBucketRig, type TestS3 } from '../helpers/s3.js'

// Nothing under `remote` in a config, and no AWS secret from the environment, is ever printed: not in
// a config error, not in `status` (text or JSON), not in a warning about a refused request.

const API_KEY = 'tg-remote-secrets-93c0d1e2f4a5b687'
const ACCESS = 'AKIAIOSFODNN7EXAMPLE'
const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYzEXAMPLEKEY'

let fake: FakeTogether
let s3: TestS3
let rig: SharedBucketRig

beforeAll(async () => {
  fake = await startFakeTogether({ apiKey: API_KEY, jobDurationMs: 50 })
  s3 = await startTestS3()
  rig = sharedBucketRig(s3, fake, API_KEY)
})
afterEach(async () => {
  await rig.dispose()
  fake.reset()
})
afterAll(async () => {
  await s3?.close()
  await fake?.close()
})

const leaks = (text: string) => [ACCESS, SECRET].filter((s) => text.includes(s))

describe('remote secrets', () => {
  it('credential-like names, an endpoint with userinfo and bad values under remote are refused (exit 2) without echoing them', async () => {
    const p = await rig.machine(1)
    const configs = [
      { s3: { bucket: s3.bucket, awsAccessKeyId: ACCESS, privateKey: SECRET }, apiKey: SECRET, auth: `${ACCESS}:${SECRET}` },
      { s3: { bucket: s3.bucket, endpoint: `http://${ACCESS}:${SECRET}@127.0.0.1:9` } },
      { s3: { bucket: ACCESS, region: SECRET } },
    ]
    for (const remote of configs) {
      await p.write('vidspec.config.ts', `export default ${JSON.stringify({ provider: 'together', remote })}\n`)
      for (const args of [['status', '--json'], ['build']]) {
        const r = await rig.cli(p, args).done
        expect(r.code, r.stderr).toBe(2)
        expect(r.stderr).toMatch(/remote/)
        expect(leaks(`${r.stdout}${r.stderr}`)).toEqual([])
      }
    }
  })

  it('status prints the endpoint without userinfo (text and --json); a refused AWS secret is never in a warning', async () => {
    const p = await rig.machine(1)
    for (const args of [['status'], ['status', '--json']]) {
      const r = await rig.cli(p, args).done
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toContain(s3.endpoint.replace(/\/$/, ''))
      expect(r.stdout).not.toMatch(/\/\/[^/\s"]*@/)
    }
    // Wrong credentials: the bucket refuses them (a definite answer: one warning, local only).
    const r = await rig.cli(p, ['build', '--json'], { AWS_ACCESS_KEY_ID: ACCESS, AWS_SECRET_ACCESS_KEY: SECRET }).done
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/remote cache unavailable/)
    expect(leaks(`${r.stdout}${r.stderr}`)).toEqual([])
  })
})
