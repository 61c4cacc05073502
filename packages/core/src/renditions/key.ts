import { canonicalJson } from '../key/canonical.js'
import { sha256Hex } from '../key/key.js'
import { RENDITION_FORMAT_VERSION } from './defaults.js'
import type { EncoderIdentity, Recipe } from './types.js'

/**
 * A derived object's key: what it was made from (the master's bytes), how (the canonical recipe) and
 * with what (the ffmpeg build and encoder libraries), plus the rendition format version. Nothing
 * of it is in the generation key, and nothing of the generation key but the master's bytes is here:
 * a recipe or encoder change makes renditions again, never a generation.
 */
export function renditionKey(masterDigest: string, recipe: Recipe, encoder: EncoderIdentity): string {
  return sha256Hex(canonicalJson({ v: RENDITION_FORMAT_VERSION, master: masterDigest, recipe, encoder }))
}
