import { reactRouter } from '@react-router/dev/vite'
import vidspec from '@vidspec/vite'
import { defineConfig } from 'vite'

// `base` matches the router's basename and is not `/`, so a URL that forgets it shows in the tests.
export default defineConfig({ base: '/rr/', plugins: [vidspec(), reactRouter()] })
