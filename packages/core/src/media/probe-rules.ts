/*
 * What a probe reports of a clip, and when it calls one cut short, in one place: ffprobe's reading
 * (probe.ts) and the in-process MP4 reading (mp4-shape.ts) must agree to the digit, or the same clip
 * would be recorded differently depending on which one read it.
 */

/** A frame rate as probes report it: to the thousandth (23.976, not 23.976023976). */
export const roundedRate = (fps: number): number => Math.round(fps * 1000) / 1000

/** The frames present play for less than the container claims, beyond what encoders leave off. */
export function framesFallShort(duration: number, frames: number, fps: number): boolean {
  return duration - frames / fps > Math.max(2 / fps, duration * 0.05)
}

/** MP4 and QuickTime share one format (ffprobe's mov demuxer); the major brand `qt` tells them apart. */
export function isoContainer(quickTime: boolean): { container: 'mp4' | 'mov'; ext: string; mime: string } {
  return quickTime ? { container: 'mov', ext: 'mov', mime: 'video/quicktime' } : { container: 'mp4', ext: 'mp4', mime: 'video/mp4' }
}
