export { main, registerCommand } from './cli.js'
export { Reporter } from './reporter.js'
