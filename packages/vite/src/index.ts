import { vidspec } from './plugin.js'

export { vidspec }
export type { VidspecPluginOptions } from './options.js'
export type { VidspecVitePlugin } from './plugin.js'
export type { VideoAsset } from '@vidspec/core'
export default vidspec
