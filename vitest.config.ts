import { defineConfig } from 'vitest/config'

// Unit tests sit beside the code; integration, fault and browser tests live under test/.
// Integration and e2e tests run the built packages (dist), so `pnpm test` builds first.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'benchmarks/lib/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // Each example site under examples/ built once per file with its own CLI, then checked and
        // served; and the packed packages installed into a fresh project. CPU-heavy: one file at a time.
        test: {
          name: 'frameworks',
          include: ['test/frameworks/**/*.test.ts', 'test/pack/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 400_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
