/** Looked for at the project root, in this order. */
export const CONFIG_FILE_NAMES = ['vidspec.config.ts', 'vidspec.config.mts', 'vidspec.config.js', 'vidspec.config.mjs'] as const
