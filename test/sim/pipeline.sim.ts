/**
 * `npm run test:sim`: the seeded simulation of the whole pipeline (see run.ts and the README section
 * "Simulation"). Each run prints one line with its seed; `SIM_SEED=<seed> [SIM_DRIVER=pglite|postgres] npm run
 * test:sim` replays it.
 */
import { expect, it } from 'vitest';
import { postgresAvailable } from '../support/databases.ts';
import { INVARIANTS } from './invariants.ts';
import { runSimulation } from './run.ts';
import { buildScenario, describeScenario, type Driver } from './scenario.ts';

/** The fixed seeds `.ci/run` replays on both drivers. */
export const CI_SEEDS = [1, 2, 3, 4];

function seeds(): number[] {
  const env = process.env;
  if (env.SIM_SEED?.trim()) return env.SIM_SEED.split(',').map((x) => Number(x.trim()));
  if (env.SIM_RUNS?.trim()) {
    const base = Number(env.SIM_SEED_BASE ?? Date.now() % 1_000_000);
    return Array.from({ length: Number(env.SIM_RUNS) }, (_, i) => base + i);
  }
  return CI_SEEDS;
}

function drivers(): Driver[] {
  const want = process.env.SIM_DRIVER?.trim();
  if (want === 'pglite' || want === 'postgres') return [want];
  return postgresAvailable() ? ['pglite', 'postgres'] : ['pglite'];
}

for (const seed of seeds()) {
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`SIM_SEED / SIM_SEED_BASE must be non-negative integers (got ${seed})`);
  for (const driver of drivers()) {
    it(`simulation seed ${seed} [${driver}]`, async () => {
      const scenario = buildScenario(seed, { driver });
      console.log(
        `[sim] seed=${seed} driver=${driver} mode=${scenario.mode} ${describeScenario(scenario)} · replay: SIM_SEED=${seed} SIM_DRIVER=${driver} npm run test:sim`,
      );
      const result = await runSimulation(scenario);
      console.log(result.line);

      // a run that did nothing must not look green
      expect(result.figures.accepted.broadcasts, 'broadcasts delivered').toBeGreaterThan(0);
      const injected = Object.entries(result.figures.botCalls)
        .filter(([k]) => k !== 'ok' && k !== 'passthrough')
        .reduce((a, [, n]) => a + n, 0);
      expect(injected, 'Bot API faults injected').toBeGreaterThan(0);
      expect(result.figures.kills.child + result.figures.kills.loop, 'workers killed').toBeGreaterThan(0);

      const failing = INVARIANTS.filter((k) => result.violations[k].length > 0);
      if (failing.length > 0) {
        const detail = failing
          .map(
            (k) =>
              `  ${k} (${result.violations[k].length}):\n${result.violations[k]
                .slice(0, 3)
                .map((x) => `    - ${x}`)
                .join('\n')}`,
          )
          .join('\n');
        throw new Error(
          `simulation seed ${seed} [${driver}] broke ${failing.length} invariant(s) – replay: SIM_SEED=${seed} SIM_DRIVER=${driver} npm run test:sim\n${detail}`,
        );
      }
    });
  }
}
