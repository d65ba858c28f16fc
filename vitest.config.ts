import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // In CI (a shared 2-core runner) a test that failed is run once more; .ci/run lists every test that passed
    // only on its retry, with its first failure, so a flaky test is reported, not hidden. Locally: no retry.
    retry: process.env.CI ? 1 : 0,
  },
});
