import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Argon2 and real browsers are slow on a shared 2-core machine; no test asserts on time.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Files share one machine's CPU; two at a time keeps argon2-heavy files from starving each other.
    maxWorkers: 2,
    typecheck: { enabled: false },
    // `npm test` turns it on; the per-folder line coverage is printed at the end (scripts/test-summary.ts).
    // Code that runs in child processes (the built server, the CLI) is not counted.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['json-summary'],
      reportsDirectory: '.test-data/coverage',
    },
  },
})
