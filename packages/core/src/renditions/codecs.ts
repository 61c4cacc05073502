import type { ProbeResult } from '../media/probe.js'

const AVC_PROFILE: Record<string, string> = {
  Baseline: '4200',
  'Constrained Baseline': '42e0',
  Main: '4d00',
  Extended: '5800',
  High: '6400',
  'High 10': '6e00',
  'High 4:2:2': '7a00',
  'High 4:4:4 Predictive': 'f400',
}

const hex2 = (n: number): string => Math.max(0, Math.min(255, n)).toString(16).padStart(2, '0')

function videoCodec(p: ProbeResult): string {
  switch (p.codec) {
    case 'h264': {
      const profile = AVC_PROFILE[p.profile ?? ''] ?? '6400'
      return `avc1.${profile}${hex2(p.level && p.level > 0 ? p.level : 31)}`
    }
    case 'av1': {
      const level = p.level !== undefined && p.level >= 0 ? p.level : 8
      const bits = p.pixFmt?.includes('10') ? '10' : '08'
      return `av01.0.${String(level).padStart(2, '0')}M.${bits}`
    }
    case 'vp9':
      return 'vp9'
    case 'vp8':
      return 'vp8'
    default:
      return p.codec
  }
}

function audioCodec(p: ProbeResult): string | undefined {
  if (!p.audioCodec) return undefined
  if (p.audioCodec === 'aac') return p.audioProfile === 'HE-AAC' ? 'mp4a.40.5' : 'mp4a.40.2'
  return p.audioCodec
}

/** The `type` of a `<source>`: container MIME type and the RFC 6381 codecs of what it holds. */
export function sourceType(p: ProbeResult): string {
  const codecs = [videoCodec(p), audioCodec(p)].filter(Boolean).join(', ')
  return `${p.mime}; codecs="${codecs}"`
}
