import { describeExample } from './suite.js'

// React Router 7 framework mode: server rendering plus `/` prerendered at build time, basename '/rr/'.
// React Router writes the prerendered page under its basename inside build/client.
describeExample({
  name: 'react-router',
  base: '/rr/',
  outDir: 'build/client',
  pages: { 'rr/index.html': { clips: 2 } },
  staticPages: { '/rr/': 'rr/index.html' },
  clean: ['build', '.react-router', '.vidspec'],
  build: ['node_modules/@react-router/dev/bin.js', 'build'],
  dev: (port) => ['node_modules/@react-router/dev/bin.js', 'dev', '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
  devProbe: '',
})
