/** The Vite majors this plugin's tests build and serve with (see test/frameworks). */
export const TESTED_VITE_MAJORS: readonly number[] = [6, 7, 8]

/**
 * The running Vite's major version. Vite 7+ says it in the plugin context (`this.meta.viteVersion`);
 * Vite 6 does not, but it is the first whose resolved config has `environments`. Read from the Vite
 * that runs the plugin, never from `import 'vite'`: a framework may run its own copy.
 */
export function viteMajor(meta: { viteVersion?: string } | undefined, resolved: object): number | undefined {
  const version = meta?.viteVersion
  if (typeof version === 'string') {
    const major = Number.parseInt(version, 10)
    return Number.isFinite(major) ? major : undefined
  }
  return 'environments' in resolved ? 6 : 5
}

/** What to say at startup about a Vite this plugin was not tested with; undefined when it was. */
export function untestedViteWarning(major: number | undefined): string | undefined {
  if (major !== undefined && TESTED_VITE_MAJORS.includes(major)) return undefined
  const tested = TESTED_VITE_MAJORS.join(', ')
  if (major !== undefined && major < (TESTED_VITE_MAJORS[0] ?? 6)) {
    return (
      `@vidspec/vite needs Vite ${TESTED_VITE_MAJORS[0]} or newer (tested with ${tested}); this is Vite ${major}.` +
      ` Clip URLs and dev serving will not work: upgrade Vite (or the framework that brings it).`
    )
  }
  return (
    `@vidspec/vite is tested with Vite ${tested}; this is Vite ${major ?? 'of an unknown version'}.` +
    ` It may work, but check that built clips play, and look for a newer @vidspec/vite.`
  )
}
