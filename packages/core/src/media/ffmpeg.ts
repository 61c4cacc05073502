// The media toolkit's public face: core's other modules import ffmpeg and ffprobe helpers from here.
export { ffmpegPath, ffprobePath } from './binaries.js'
export { runFfmpeg, runTool, type RunFfmpegOptions, type RunToolOptions, type ToolResult } from './run.js'
export { probeVideo, type ProbeResult, type ProbeOptions } from './probe.js'
export { extractPoster, type PosterOptions } from './poster.js'
