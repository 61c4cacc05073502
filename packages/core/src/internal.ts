// @vidspec/core/internal: the parts benchmarks and the integration tests drive directly (a store
// filled by hand, a probe of what was served, the key's pieces). Not an API: no site needs these,
// and the adapters may not import them (packages/watcher/src/boundary.test.ts); they go through
// `Vidspec` on core's public entry.
export { canonicalJson } from './key/canonical.js'
export { computeKey, sha256Hex } from './key/key.js'
export { hashFiles } from './spec/load.js'
export { ffmpegPath, probeVideo } from './media/ffmpeg.js'
export { probeClip } from './media/probe.js'
export { Store } from './store/index.js'
export { RemoteCache } from './remote/cache.js'
export { S3Bucket } from './remote/s3.js'
