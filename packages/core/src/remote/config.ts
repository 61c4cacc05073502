import { showValue, type SpecIssue } from '../errors.js'
import type { RemoteConfigInput, RemoteMode } from '../config/types.js'

/** A remote cache in force (`mode` is never 'off' here: an off remote resolves to undefined). */
export interface ResolvedRemote {
  mode: Exclude<RemoteMode, 'off'>
  s3: {
    bucket: string
    /** No leading or trailing slash; '' for the bucket's root. */
    prefix: string
    region: string
    endpoint?: string | undefined
    forcePathStyle: boolean
  }
  /** One remote request's bound (see S3Bucket). */
  requestTimeoutMs?: number | undefined
  lease?: { heartbeatMs?: number | undefined; staleMs?: number | undefined; waitMs?: number | undefined } | undefined
}

export const REMOTE_MODES = ['read-write', 'read-only', 'off'] as const
export const REMOTE_MODE_ALLOWED = '"read-write", "read-only" or "off"'
export const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

// Names under which people paste keys into configs (secretAccessKey, awsAccessKeyId, apiKey,
// privateKey, auth, sessionToken, ...). The config file is committed: refuse them outright.
const CREDENTIAL_RE = /secret|passw|token|credential|auth|signature|session|access_?key|api_?key|private_?key|^aws|^key(_?id)?$/i

/**
 * Credential-looking options under `remote`, reported without their values (the schema's own
 * "unknown option" message would print the secret back).
 */
export function credentialIssues(input: unknown): SpecIssue[] {
  const issues: SpecIssue[] = []
  const walk = (value: unknown, path: string): void => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const at = `${path}.${k}`
      if (CREDENTIAL_RE.test(k)) {
        issues.push({
          path: at,
          value: '(hidden)',
          message:
            'no credentials in the config file (it is committed): the remote cache takes them from the standard AWS chain only, e.g. AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance role',
        })
      } else walk(v, at)
    }
  }
  if (typeof input === 'object' && input !== null) walk((input as { remote?: unknown }).remote, 'remote')
  return issues
}

/**
 * Fills in the remote's defaults; `VIDSPEC_REMOTE_MODE` (`envMode`) wins over the file, so CI for untrusted
 * pull requests can force read-only without editing the config.
 */
export function resolveRemote(
  input: RemoteConfigInput | undefined,
  env: NodeJS.ProcessEnv,
  envMode: string | undefined,
): { remote?: ResolvedRemote; issues: SpecIssue[]; envIssues: SpecIssue[] } {
  const envIssues: SpecIssue[] =
    envMode && !(REMOTE_MODES as readonly string[]).includes(envMode)
      ? [{ path: 'VIDSPEC_REMOTE_MODE', value: showValue(envMode), message: REMOTE_MODE_ALLOWED }]
      : []
  if (!input) return { issues: [], envIssues }
  const s3 = input.s3
  if (!s3?.bucket) {
    return {
      issues: [{ path: 'remote.s3.bucket', value: showValue(s3?.bucket), message: 'the bucket name, e.g. remote: { s3: { bucket: "my-team-vidspec" } }' }],
      envIssues,
    }
  }
  const userinfo = endpointUserinfo(s3.endpoint)
  if (userinfo) return { issues: [userinfo], envIssues }
  const mode = (envMode && envIssues.length === 0 ? envMode : input.mode ?? 'read-write') as RemoteMode
  if (mode === 'off') return { issues: [], envIssues }
  return {
    remote: {
      mode,
      s3: {
        bucket: s3.bucket,
        prefix: (s3.prefix ?? '').replace(/^\/+|\/+$/g, ''),
        region: s3.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
        endpoint: s3.endpoint,
        // Path-style is what most self-hosted S3 servers (MinIO, test servers) need; AWS prefers virtual-hosted.
        forcePathStyle: s3.forcePathStyle ?? Boolean(s3.endpoint),
      },
      ...(input.requestTimeoutMs !== undefined ? { requestTimeoutMs: input.requestTimeoutMs } : {}),
      ...(input.lease ? { lease: { ...input.lease } } : {}),
    },
    issues: [],
    envIssues,
  }
}

/** An endpoint with `user:password@` in it is a credential in a committed file: refused, not echoed. */
function endpointUserinfo(endpoint: string | undefined): SpecIssue | undefined {
  if (!endpoint) return undefined
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    return undefined
  }
  if (!url.username && !url.password) return undefined
  return {
    path: 'remote.s3.endpoint',
    value: '(hidden)',
    message:
      'an endpoint URL without credentials in it (no user:password@): the remote cache takes credentials from the standard AWS chain only, e.g. AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
  }
}

/**
 * Whether a lease's timing is coherent: stale must leave room for two missed heartbeats and the
 * bucket's one-second clock (Last-Modified and Date have whole seconds).
 */
export function leaseIssues(lease: ResolvedRemote['lease'], defaults: { heartbeatMs: number; staleMs: number }): SpecIssue[] {
  const heartbeatMs = lease?.heartbeatMs ?? defaults.heartbeatMs
  const staleMs = lease?.staleMs ?? defaults.staleMs
  const least = 2 * heartbeatMs + 2000
  return staleMs < least
    ? [{ path: 'remote.lease.staleMs', value: String(staleMs), message: `at least twice remote.lease.heartbeatMs plus 2000 (${least})` }]
    : []
}

/** Any value under `remote` may be a pasted secret: errors name the field, never what is in it. */
export function hideRemoteValues(issues: SpecIssue[]): SpecIssue[] {
  return issues.map((i) => (i.path === 'remote' || i.path.startsWith('remote.') ? { ...i, value: '(not shown: values under remote are never printed)' } : i))
}

/** An endpoint for display: never with userinfo (refused at config time; stripped here as well, in case). */
export function shownEndpoint(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined
  try {
    const url = new URL(endpoint)
    url.username = ''
    url.password = ''
    return url.toString().replace(/\/$/, '')
  } catch {
    return '(not a URL)'
  }
}
