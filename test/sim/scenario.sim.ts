/**
 * The scenario generator's own guarantees, checked over many seeds without running anything (a fraction of a
 * second per seed): a scenario is a pure function of its seed (the printed digest), and two jobs that are not
 * copies of each other never share (specific level, subject, place) – such posts are one job's copies to anyone,
 * the product included, so a duplicate group of them would be no false group; and one agency posts a job under
 * one code only (its re-posts keep the text), as the product never groups one agency's assignments.
 */
import { expect, it } from 'vitest';
import { buildScenario, scenarioDigest } from './scenario.ts';

it('scenario: a pure function of the seed; distinct jobs never share level, subject and place; one code per agency and job', () => {
  for (let seed = 0; seed < 100; seed++) {
    const s = buildScenario(seed, { driver: 'pglite' });
    expect(scenarioDigest(buildScenario(seed, { driver: 'pglite' })), `seed ${seed} digest`).toBe(scenarioDigest(s));
    for (const j of s.jobs) {
      const agencies = j.posts
        .map((k) => s.posts.get(k)!)
        .filter((p) => p.label === 'copy' || p.label === 'single' || p.label === 'lookalike')
        .map((p) => p.agency);
      expect(new Set(agencies).size, `seed ${seed}: job ${j.id} posted twice by one agency under two codes`).toBe(agencies.length);
    }
    const byTuple = new Map<string, number>();
    for (const j of s.jobs) {
      if (j.fixture) continue;
      const key = `${j.subject!.level} ${j.subject!.subject} @ ${j.area!.postal}`;
      expect(byTuple.get(key), `seed ${seed}: jobs ${byTuple.get(key)} and ${j.id} are both ${key}`).toBeUndefined();
      byTuple.set(key, j.id);
    }
  }
});
