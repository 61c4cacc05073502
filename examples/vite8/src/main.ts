import { render } from './clips'

document.querySelector<HTMLElement>('#app')!.innerHTML = render()
