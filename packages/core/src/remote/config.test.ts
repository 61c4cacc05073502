import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../config/resolve.js'
import { isVidspecError } from '../errors.js'
import { shownEndpoint } from './config.js'

const root = '/tmp/vidspec-remote-config'
const s3 = { bucket: 'team-clips' }

function resolve(input: unknown, env: NodeJS.ProcessEnv = {}) {
  return resolveConfig(input, { root, file: 'vidspec.config.ts', env })
}

function configError(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (isVidspecError(err, 'CONFIG_INVALID')) return err.message
    throw err
  }
  throw new Error('expected CONFIG_INVALID')
}

describe('remote config', () => {
  it('is absent unless configured, and fills in defaults when it is', () => {
    expect(resolve({}).remote).toBeUndefined()
    expect(resolve({ remote: { s3 } }).remote).toEqual({
      mode: 'read-write',
      s3: { bucket: 'team-clips', prefix: '', region: 'us-east-1', endpoint: undefined, forcePathStyle: false },
    })
    const r2 = resolve({ remote: { mode: 'read-only', s3: { ...s3, prefix: '/site/', region: 'auto', endpoint: 'https://acc.r2.cloudflarestorage.com' } } })
    expect(r2.remote).toMatchObject({ mode: 'read-only', s3: { prefix: 'site', region: 'auto', forcePathStyle: true } })
    expect(resolve({ remote: { s3 } }, { AWS_REGION: 'eu-west-1' }).remote?.s3.region).toBe('eu-west-1')
  })

  it('VIDSPEC_REMOTE_MODE wins over the file; "off" turns the remote off; a bad value is named', () => {
    expect(resolve({ remote: { s3 } }, { VIDSPEC_REMOTE_MODE: 'read-only' }).remote?.mode).toBe('read-only')
    expect(resolve({ remote: { mode: 'read-only', s3 } }, { VIDSPEC_REMOTE_MODE: 'read-write' }).remote?.mode).toBe('read-write')
    expect(resolve({ remote: { s3 } }, { VIDSPEC_REMOTE_MODE: 'off' }).remote).toBeUndefined()
    expect(resolve({ remote: { mode: 'off', s3 } }).remote).toBeUndefined()
    expect(configError(() => resolve({ remote: { s3 } }, { VIDSPEC_REMOTE_MODE: 'readonly' }))).toMatch(
      /VIDSPEC_REMOTE_MODE: "read-write", "read-only" or "off" \(got "readonly"\)/,
    )
  })

  it('names a missing bucket, a bad bucket name, a bad endpoint and unknown options', () => {
    expect(configError(() => resolve({ remote: {} }))).toMatch(/remote\.s3\.bucket/)
    expect(configError(() => resolve({ remote: { s3: { bucket: 'Bad_Name' } } }))).toMatch(/remote\.s3\.bucket.*S3 bucket name/s)
    expect(configError(() => resolve({ remote: { s3: { ...s3, endpoint: 'ftp://x' } } }))).toMatch(/remote\.s3\.endpoint/)
    expect(configError(() => resolve({ remote: { s3: { ...s3, acl: 'private' } } }))).toMatch(/remote\.s3\.acl.*unknown option/s)
  })

  it('refuses credentials in the config without printing them', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
    for (const remote of [
      { s3: { ...s3, secretAccessKey: secret } },
      { s3: { ...s3, credentials: { accessKeyId: 'AKIA', secretAccessKey: secret } } },
      { s3, sessionToken: secret },
    ]) {
      const message = configError(() => resolve({ remote }))
      expect(message).toMatch(/no credentials in the config file/)
      expect(message).toMatch(/AWS_ACCESS_KEY_ID/)
      expect(message).not.toContain(secret)
    }
  })

  it('refuses every credential-like name (awsAccessKeyId, apiKey, privateKey, auth, ...) without printing the value', () => {
    const secret = 'AKIAIOSFODNN7EXAMPLE-s3cr3t'
    for (const name of ['awsAccessKeyId', 'apiKey', 'api_key', 'privateKey', 'auth', 'authorization', 'accessKey', 'password', 'token', 'key']) {
      for (const remote of [{ s3: { ...s3, [name]: secret } }, { s3, [name]: secret }]) {
        const message = configError(() => resolve({ remote }))
        expect(message, name).toContain(name)
        expect(message, name).not.toContain(secret)
      }
    }
  })

  it('never prints a value under remote, whatever is wrong with it', () => {
    const secret = 'AKIAIOSFODNN7EXAMPLE'
    for (const remote of [
      { s3: { bucket: secret } },
      { s3: { ...s3, region: { nested: secret } } },
      { s3: { ...s3, endpoint: `ftp://${secret}` } },
      { s3: { ...s3, stray: secret } },
      { mode: secret, s3 },
      { s3, lease: { heartbeatMs: secret } },
      secret,
    ]) {
      const message = configError(() => resolve({ remote }))
      expect(message).toMatch(/remote/)
      expect(message).not.toContain(secret)
    }
  })

  it('refuses an endpoint with credentials in it (user:password@), without echoing them', () => {
    for (const endpoint of ['http://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMIK7MDENG@127.0.0.1:9000', 'https://AKIAIOSFODNN7EXAMPLE@r2.example.com']) {
      const message = configError(() => resolve({ remote: { s3: { ...s3, endpoint } } }))
      expect(message).toMatch(/remote\.s3\.endpoint.*without credentials/s)
      expect(message).not.toContain('AKIAIOSFODNN7EXAMPLE')
      expect(message).not.toContain('wJalrXUtnFEMIK7MDENG')
    }
    expect(shownEndpoint('http://user:pw@host:9000/')).toBe('http://host:9000')
    expect(shownEndpoint('https://acc.r2.cloudflarestorage.com')).toBe('https://acc.r2.cloudflarestorage.com')
  })

  it('takes a lease and a request timeout; a stale margin too small for two missed heartbeats and the bucket\'s one-second clock is refused', () => {
    expect(resolve({ remote: { s3, requestTimeoutMs: 2000, lease: { heartbeatMs: 100, staleMs: 2200, waitMs: 5000 } } }).remote).toMatchObject({
      requestTimeoutMs: 2000,
      lease: { heartbeatMs: 100, staleMs: 2200, waitMs: 5000 },
    })
    expect(configError(() => resolve({ remote: { s3, lease: { heartbeatMs: 1000, staleMs: 3000 } } }))).toMatch(
      /remote\.lease\.staleMs: at least twice remote\.lease\.heartbeatMs plus 2000 \(4000\)/,
    )
    expect(configError(() => resolve({ remote: { s3, lease: { staleMs: 20_000 } } }))).toMatch(/remote\.lease\.staleMs.*32000/)
  })
})
