import { readFile } from 'node:fs/promises'

/** Reads of the environment a module's result may depend on besides its files. */
const ENV_READ = /\bprocess\s*\.\s*(env|argv|cwd)\b|\bimport\.meta\.env\b|\bDate\.now\s*\(|\bnew\s+Date\s*\(\s*\)|\bMath\.random\s*\(/

/** Whether this source text reads the environment, the clock or randomness. */
export function textReadsEnvironment(text: string): boolean {
  return ENV_READ.test(text)
}

/**
 * Whether any of these source files reads the environment, the clock or randomness. Memos of
 * evaluated modules are only sound for modules that are functions of their files; a file that cannot
 * be read counts as impure.
 */
export async function readsEnvironment(files: string[]): Promise<boolean> {
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8').catch(() => undefined)))
  return texts.some((t) => t === undefined || textReadsEnvironment(t))
}
