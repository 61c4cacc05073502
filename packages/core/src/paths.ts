import { isAbsolute, relative, sep } from 'node:path'

/** A relative path written with `/`, as ids, globs, manifests and esbuild's metafile spell them. */
export function toPosix(rel: string): string {
  return sep === '/' ? rel : rel.split(sep).join('/')
}

/**
 * `path` relative to `folder` when it lies strictly below it, else undefined (the folder itself, a
 * sibling reached through `..`, another drive). The one place that decides "inside", so a cache dir,
 * an output name and a media file are judged by the same rule.
 */
export function relativeInside(folder: string, path: string): string | undefined {
  const rel = relative(folder, path)
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined
  return rel
}
