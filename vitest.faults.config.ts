import { defineConfig } from 'vitest/config';

/** `npm run test:faults`: slow fault scenarios on real Postgres (processes killed, services failing). */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.fault.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/secrets.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
    reporters: ['default'],
  },
});
