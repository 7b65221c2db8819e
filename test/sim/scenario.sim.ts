/**
 * The scenario generator's own guarantees, checked over many seeds without running anything (a fraction of a
 * second per seed): a scenario is a pure function of its seed (the printed digest), and two jobs that are not
 * copies of each other never share (specific level, subject, place) – such posts are one job's copies to anyone,
 * the product included, so a duplicate group of them would be no false group.
 */
import { expect, it } from 'vitest';
import { buildScenario, scenarioDigest } from './scenario.ts';

it('scenario: a pure function of the seed, and distinct jobs never share level, subject and place', () => {
  for (let seed = 0; seed < 100; seed++) {
    const s = buildScenario(seed, { driver: 'pglite' });
    expect(scenarioDigest(buildScenario(seed, { driver: 'pglite' })), `seed ${seed} digest`).toBe(scenarioDigest(s));
    const byTuple = new Map<string, number>();
    for (const j of s.jobs) {
      if (j.fixture) continue;
      const key = `${j.subject!.level} ${j.subject!.subject} @ ${j.area!.postal}`;
      expect(byTuple.get(key), `seed ${seed}: jobs ${byTuple.get(key)} and ${j.id} are both ${key}`).toBeUndefined();
      byTuple.set(key, j.id);
    }
  }
});
