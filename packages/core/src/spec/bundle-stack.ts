import { SourceMap, type SourceMapPayload } from 'node:module'

/**
 * A stack whose frames in the bundle `bundleUrl` (a spec's code as a worker ran it, without a map)
 * point at the original files instead, by the map of the same code. Frames the map does not cover
 * are left as they are.
 */
export function mapBundleFrames(stack: string, bundleUrl: string, map: SourceMapPayload): string {
  const consumer = new SourceMap(map)
  const frame = new RegExp(`${bundleUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+)`, 'g')
  return stack.replace(frame, (whole, line: string, column: string) => {
    const entry: { originalSource?: string; originalLine?: number; originalColumn?: number } = consumer.findEntry(Number(line) - 1, Number(column) - 1)
    if (!entry.originalSource || entry.originalLine === undefined || entry.originalColumn === undefined) return whole
    return `${entry.originalSource}:${entry.originalLine + 1}:${entry.originalColumn + 1}`
  })
}
