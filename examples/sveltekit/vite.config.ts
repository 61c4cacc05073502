import { sveltekit } from '@sveltejs/kit/vite'
import vidspec from '@vidspec/vite'
import { defineConfig } from 'vite'

// vidspec before sveltekit: it claims `*.video` imports before any other plugin sees them.
export default defineConfig({ plugins: [vidspec(), sveltekit()] })
