import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exec, mustExec, PACKAGES, packAll, tarList, tarRead, type PackageDir } from './tarballs.js'

/**
 * The three packages as a user gets them: packed, then installed into a fresh project outside the
 * workspace with npm and with pnpm, with no install script run and `@vidspec/*` pointed at a
 * registry that refuses every connection, so a lookup of one of them fails the install instead of
 * quietly fetching something else. Then the project's own `vidspec` and `vite` build it.
 */

let work: string
let tarballs: Record<PackageDir, string>

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vidspec-pack-'))
  await mkdir(join(work, 'tarballs'))
  tarballs = await packAll(join(work, 'tarballs'))
})
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true })
})

describe('the packed tarballs', () => {
  it('have README, LICENSE, engines and their entry points; no build info, tests or workspace: ranges', async () => {
    for (const pkg of PACKAGES) {
      const entries = await tarList(tarballs[pkg])
      const manifest = JSON.parse(await tarRead(tarballs[pkg], 'package.json')) as {
        version: string
        engines?: { node?: string }
        license?: string
        exports?: Record<string, { types?: string; default?: string } | string>
        bin?: Record<string, string>
        dependencies?: Record<string, string>
      }
      expect(entries, pkg).toContain('README.md')
      expect(entries, pkg).toContain('LICENSE')
      expect(manifest.license).toBe('MIT')
      expect(manifest.engines?.node, pkg).toBe('>=20.19')
      expect(entries.filter((e) => e.endsWith('.tsbuildinfo')), pkg).toEqual([])
      expect(entries.filter((e) => /\.test\.[jt]s$|test-helpers/.test(e)), pkg).toEqual([])
      expect(JSON.stringify(manifest), pkg).not.toContain('workspace:')
      if (manifest.dependencies?.['@vidspec/core']) expect(manifest.dependencies['@vidspec/core']).toBe(manifest.version)
      for (const target of Object.values(manifest.exports ?? {})) {
        for (const file of typeof target === 'string' ? [target] : Object.values(target)) {
          if (file && file.endsWith('.js') || file?.endsWith('.d.ts')) expect(entries, `${pkg} exports ${file}`).toContain(posix.normalize(file))
        }
      }
      for (const file of Object.values(manifest.bin ?? {})) expect(entries, `${pkg} bin ${file}`).toContain(posix.normalize(file))
    }
  })

  it('every source map names sources that are in the tarball (or embeds them)', async () => {
    for (const pkg of PACKAGES) {
      const entries = new Set(await tarList(tarballs[pkg]))
      const maps = [...entries].filter((e) => e.endsWith('.map'))
      expect(maps.length, pkg).toBeGreaterThan(0)
      const dangling: string[] = []
      for (const map of maps) {
        const m = JSON.parse(await tarRead(tarballs[pkg], map)) as { sources: string[]; sourceRoot?: string; sourcesContent?: Array<string | null> }
        m.sources.forEach((src, i) => {
          if (typeof m.sourcesContent?.[i] === 'string') return
          const path = posix.normalize(posix.join(posix.dirname(map), m.sourceRoot ?? '', src))
          if (!entries.has(path)) dangling.push(`${map} -> ${src}`)
        })
      }
      expect(dangling, pkg).toEqual([])
    }
  })

  it('the AWS SDK packages are optional peers of core, and the Vite peer range starts at Vite 6', async () => {
    const core = JSON.parse(await tarRead(tarballs.core, 'package.json')) as Record<string, Record<string, unknown> | undefined>
    for (const sdk of ['@aws-sdk/client-s3', '@aws-sdk/s3-request-presigner']) {
      expect(core.dependencies?.[sdk], sdk).toBeUndefined()
      expect(core.peerDependencies?.[sdk], sdk).toBeDefined()
      expect(core.peerDependenciesMeta?.[sdk], sdk).toEqual({ optional: true })
    }
    expect(Object.keys(core.dependencies ?? {}).filter((d) => d.startsWith('@aws-sdk/'))).toEqual([])
    const vite = JSON.parse(await tarRead(tarballs.vite, 'package.json')) as { peerDependencies: { vite: string } }
    expect(vite.peerDependencies.vite).toBe('^6.0.0 || ^7.0.0 || ^8.0.0')
  })
})

/** The environment of the package managers: not CI (pnpm would insist on a lockfile), no API key. */
function clientEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false' }
  delete env.CI
  delete env.TOGETHER_API_KEY
  delete env.VITEST
  delete env.NODE_ENV
  // Whatever the workspace run set for pnpm must not leak into the fresh project.
  for (const k of Object.keys(env)) if (/^(npm|pnpm)_(config|package|lifecycle)_/i.test(k) && k !== 'npm_config_update_notifier') delete env[k]
  return env
}

const SPEC = `import { defineVideo } from '@vidspec/core'

export default defineVideo({ model: 'minimax/hailuo-02', prompt: 'A red kite over the sea', seconds: 1, width: 1366, height: 768, seed: 5 })
`

async function freshProject(dir: string, client: 'npm' | 'pnpm'): Promise<void> {
  await mkdir(join(dir, 'src'), { recursive: true })
  const deps = {
    '@vidspec/core': `file:${tarballs.core}`,
    '@vidspec/vite': `file:${tarballs.vite}`,
    '@vidspec/watcher': `file:${tarballs.watcher}`,
    vite: '8.3.8',
  }
  const pkg: Record<string, unknown> = { name: `fresh-site-${client}`, private: true, type: 'module', dependencies: deps }
  // The plugin's and the CLI's dependency on @vidspec/core is "0.1.0": it must be the tarball beside them.
  if (client === 'npm') pkg.overrides = { '@vidspec/core': '$@vidspec/core' }
  await writeFile(join(dir, 'package.json'), JSON.stringify(pkg, null, 2))
  // A lookup of any @vidspec package goes to a port where nothing listens: it fails, loudly and (one
  // quick retry, for a flaky link to the real registry) at once instead of after minutes of backoff.
  await writeFile(join(dir, '.npmrc'), '@vidspec:registry=http://127.0.0.1:9/\nfetch-retries=1\nfetch-retry-mintimeout=1000\nfetch-retry-maxtimeout=2000\n')
  if (client === 'pnpm') {
    await writeFile(
      join(dir, 'pnpm-workspace.yaml'),
      [
        'fetchRetries: 1',
        'fetchRetryMintimeout: 1000',
        'fetchRetryMaxtimeout: 2000',
        'overrides:',
        `  "@vidspec/core": "file:${tarballs.core}"`,
        '# vidspec needs none of these scripts: esbuild finds its platform package, and vidspec marks the',
        '# ffmpeg/ffprobe binaries executable itself. Saying so keeps pnpm from stopping on ERR_PNPM_IGNORED_BUILDS.',
        'allowBuilds:',
        '  esbuild: false',
        '  "@ffmpeg-installer/linux-x64": false',
        '  "@ffprobe-installer/linux-x64": false',
        '',
      ].join('\n'),
    )
  }
  await writeFile(join(dir, 'vidspec.config.ts'), `import { defineConfig } from '@vidspec/core'\n\nexport default defineConfig({ include: ['src/**/*.video.ts'] })\n`)
  await writeFile(
    join(dir, 'vidspec.remote.config.ts'),
    `import { defineConfig } from '@vidspec/core'\n\nexport default defineConfig({ include: ['src/**/*.video.ts'], remote: { s3: { bucket: 'team-clips', endpoint: 'http://127.0.0.1:9', forcePathStyle: true } } })\n`,
  )
  await writeFile(join(dir, 'src/hero.video.ts'), SPEC)
  await writeFile(join(dir, 'src/main.ts'), `import hero from './hero.video'\n\ndocument.body.innerHTML = \`<video src="\${hero.src}" poster="\${hero.poster}"></video>\`\n`)
  await writeFile(join(dir, 'index.html'), '<!doctype html><html><body><script type="module" src="/src/main.ts"></script></body></html>\n')
  await writeFile(join(dir, 'vite.config.ts'), `import vidspec from '@vidspec/vite'\nimport { defineConfig } from 'vite'\n\nexport default defineConfig({ base: '/fresh/', plugins: [vidspec()] })\n`)
}

for (const client of ['npm', 'pnpm'] as const) {
  describe(`a fresh project installed from the tarballs with ${client}`, () => {
    let dir: string
    let installLog = ''
    const env = clientEnv()
    const bin = (name: string) => join(dir, 'node_modules/.bin', name)

    beforeAll(async () => {
      dir = join(work, `site-${client}`)
      await freshProject(dir, client)
      installLog =
        client === 'npm'
          ? await mustExec('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel', 'error'], { cwd: dir, env })
          : await mustExec('pnpm', ['install', '--prefer-offline', '--no-frozen-lockfile'], { cwd: dir, env })
    })

    it('installs the tarballs together: the packed core, no AWS SDK, no script approval', async () => {
      expect(installLog).not.toMatch(/ERR_PNPM_IGNORED_BUILDS|approve-builds/)
      const installed = await readFile(join(dir, 'node_modules/@vidspec/core/dist/bundle/index.js'), 'utf8')
      expect(installed).toBe(await tarRead(tarballs.core, 'dist/bundle/index.js'))
      await expect(stat(join(dir, 'node_modules/@aws-sdk'))).rejects.toThrow()
      // One core: the plugin and the CLI resolve the same copy as the project.
      for (const pkg of ['vite', 'watcher']) {
        const nested = join(dir, 'node_modules/@vidspec', pkg, 'node_modules/@vidspec/core/dist/bundle/index.js')
        const text = await readFile(nested, 'utf8').catch(() => installed)
        expect(text).toBe(installed)
      }
    })

    it('the project\'s own `vidspec build --provider offline` renders the spec', async () => {
      const r = await exec(bin('vidspec'), ['build', '--provider', 'offline'], { cwd: dir, env })
      expect(r.code, r.out).toBe(0)
      const objects = await readdir(join(dir, '.vidspec/objects'))
      expect(objects.filter((f) => f.endsWith('.mp4'))).toHaveLength(1)
    })

    it('`vite build` emits the clip and its poster under the base', async () => {
      const r = await exec(bin('vite'), ['build', '--logLevel', 'warn'], { cwd: dir, env })
      expect(r.code, r.out).toBe(0)
      const assets = await readdir(join(dir, 'dist/assets'))
      const clip = assets.find((f) => f.endsWith('.mp4'))
      const poster = assets.find((f) => f.endsWith('.jpg'))
      expect(clip).toBeDefined()
      expect(poster).toBeDefined()
      const js = (await Promise.all(assets.filter((f) => f.endsWith('.js')).map((f) => readFile(join(dir, 'dist/assets', f), 'utf8')))).join('\n')
      expect(js).toContain(`/fresh/assets/${clip}`)
      expect(js).toContain(`/fresh/assets/${poster}`)
    })

    it('a configured remote cache without the AWS SDK installed is an error naming the package', async () => {
      const before = await readdir(join(dir, '.vidspec/objects')).catch(() => [])
      // A key so `plan` gets as far as asking the remote; the API's address is a closed port, and plan never creates.
      const planEnv = { ...env, TOGETHER_API_KEY: 'not-a-real-key', TOGETHER_BASE_URL: 'http://127.0.0.1:9' }
      const r = await exec(bin('vidspec'), ['plan', '--provider', 'together', '--config', 'vidspec.remote.config.ts'], { cwd: dir, env: planEnv })
      expect(r.code, r.out).not.toBe(0)
      expect(r.out).toContain('@aws-sdk/client-s3')
      expect(r.out).toMatch(/npm install @aws-sdk\/client-s3/)
      // The store is untouched by the failed command.
      expect(await readdir(join(dir, '.vidspec/objects')).catch(() => [])).toEqual(before)
    })
  })
}
