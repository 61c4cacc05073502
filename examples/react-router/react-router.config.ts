import type { Config } from '@react-router/dev/config'

// Framework mode: server rendering, and `/` prerendered to static HTML at build time.
export default { ssr: true, prerender: ['/'], basename: '/rr/' } satisfies Config
