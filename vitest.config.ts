import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/secrets.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Postgres-backed files each get their own database; two cores here, so keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
