export { main } from './cli.js'
export { Reporter } from './reporter.js'
