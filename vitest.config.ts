import { defineConfig } from 'vitest/config';

// Three tiers, each runnable alone; `npm test` (and so CI) runs all three. No retry: a test that fails once fails
// the run, and a flaky one is fixed, not retried.
// - unit: one module at a time, in memory and on local files; no socket, no child process (npm run test:unit).
// - integration: modules together in one process: the engine with fakes, the clients against the simulator and the
//   receivers on loopback sockets, and long property runs (npm run test:integration).
// - system: processes: the CLI, kill -9, a real Fluent Bit (FLUENT_BIT_BIN), a real OpenSearch (OPENSEARCH_URL),
//   schemathesis, npm pack (npm run test:system).
export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: { name: 'system', include: ['test/system/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 60_000 },
      },
    ],
  },
});
