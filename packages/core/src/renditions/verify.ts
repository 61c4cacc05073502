import { isVidspecError } from '../errors.js'
import type { MediaTools } from '../media/binaries.js'
import type { Store, VerifyReport } from '../store/index.js'
import { checkImageRendition, checkVideoRendition } from './checks.js'

/**
 * `verify` for derived objects, past the store's re-hash: each rendition whose bytes hash right is
 * probed again and must still pass the checks it passed when it was stored (codec, size, duration,
 * audio, fast start). A failure is reported as corrupt; with `repair` its record goes (the object is
 * then an orphan gc removes) and the next build makes it again from its master.
 */
export async function reprobeDerived(store: Store, report: VerifyReport, opts: { repair: boolean; tools?: MediaTools | undefined }): Promise<VerifyReport> {
  const judged = new Set(report.corrupt.map((p) => p.key))
  let checked = 0
  let ok = 0
  for (const record of await store.listDerived()) {
    if (judged.has(record.key)) continue
    checked++
    const path = store.objectPath(record.digest, record.ext)
    const what = `rendition ${record.recipe.kind} of ${record.spec}`
    try {
      if (record.recipe.kind === 'video') await checkVideoRendition(path, record.recipe, record.from, what, { tools: opts.tools })
      else await checkImageRendition(path, record.recipe, what, opts.tools)
      ok++
    } catch (err) {
      if (!isVidspecError(err, 'RENDITION_INVALID')) throw err
      report.corrupt.push({ key: record.key, digest: record.digest, path, reason: err.message.replace(/; it was not stored$/, '') })
      if (opts.repair) {
        await store.removeDerived(record.key)
        report.removed.push(record.key)
      }
    }
  }
  return { ...report, renditions: { checked, ok } }
}
