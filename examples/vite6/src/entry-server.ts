export { clips, render } from './clips'
