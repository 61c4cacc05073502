import { VidspecError } from '../errors.js'
import type { Logger } from '../logger.js'
import { outputExt } from '../media/geometry.js'
import { durationShortfall } from '../media/probe.js'
import type { ProviderRequest } from '../providers/types.js'
import { containerOverrun } from './container-length.js'
import type { DownloadResult } from './download.js'

export interface ClipFacts {
  ext: string
  codec: string
  duration: number
}

/**
 * Decides whether a probed file is the whole clip the request asked for, before it is committed.
 * Throws OUTPUT_INVALID (the runner downloads the same paid job again) for a clip that ends early:
 * a container whose own sizes run past the file, a fragmented MP4 whose last fragment lacks its
 * samples, or a clip shorter than the `seconds` asked (a cut on a fragment boundary leaves nothing
 * else to see, and without a Content-Length nothing in the transfer says it ended early).
 *
 * A valid clip in another container than asked is kept, with a warning: it is paid work, and
 * refusing it would download it again on every run, forever. Its entry records the real format.
 */
export async function checkWholeClip(
  req: ProviderRequest,
  file: string,
  probed: ClipFacts,
  download: Pick<DownloadResult, 'lengthKnown'> | undefined,
  logger: Logger,
): Promise<void> {
  const overrun = containerOverrun(file, probed.ext)
  if (overrun) throw new VidspecError('OUTPUT_INVALID', `${req.spec}: the clip is incomplete: ${overrun}`)
  const short = durationShortfall(req.request.seconds, probed.duration)
  if (short) {
    const why = download && !download.lengthKnown ? ' (the download had no Content-Length to check its end against)' : ''
    throw new VidspecError('OUTPUT_INVALID', `${req.spec}: the clip is incomplete: ${short}${why}`)
  }
  const wanted = outputExt(req.request.output_format)
  if (probed.ext !== wanted) {
    logger.warn(
      `${req.spec}: asked for ${wanted.toUpperCase()} but the provider sent a valid ${probed.ext.toUpperCase()} clip (${probed.codec}); ` +
        `it is kept as .${probed.ext} (a paid clip is never thrown away), and the cache entry and lockfile record its real format`,
    )
  }
}
