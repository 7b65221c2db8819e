import { defineConfig } from 'vitest/config';

/**
 * `npm run test:sim`: the seeded whole-pipeline simulation (test/sim). SIM_SEED=<n> replays one seed, SIM_RUNS=<n>
 * runs n seeds (a soak), SIM_DRIVER=pglite|postgres picks one driver.
 */
export default defineConfig({
  test: {
    include: ['test/sim/**/*.sim.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/secrets.ts'],
    testTimeout: 240_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
    reporters: ['default'],
  },
});
