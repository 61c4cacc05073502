/**
 * Sets environment variables for tests that run vidspec in this process (the Vite plugin), and
 * returns what puts every one of them back as it was.
 */
export function setEnv(values: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(values).map((k) => [k, process.env[k]]))
  const apply = (from: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(from)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  apply(values)
  return () => apply(saved)
}
