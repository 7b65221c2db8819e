import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateExamples, loadMatchingGold } from '../src/extraction/index.ts';
import { processed } from './support/extract.ts';

/** The probe sets of agencies the rules were not written against (test/fixtures/probes/README.md). */
const run = async (raw: string) => {
  const r = await processed(raw);
  return r.outcome === 'ok' ? r.items : null;
};

describe.each(['a', 'b', 'c'])('probe set %s: matching fields on invented agencies', (set) => {
  it('matching micro ≥ 0.95, every field ≥ 0.9, every post scored', async () => {
    const dir = path.resolve('test/fixtures/probes', set);
    const report = await evaluateExamples(path.join(dir, 'examples'), run, { matchingGold: loadMatchingGold(path.join(dir, 'gold.jsonl')) });
    const m = report.matching!;
    console.log(
      `probe ${set}: matching micro ${m.micro.toFixed(3)} (${Object.entries(m.perField)
        .map(([f, v]) => `${f} ${v.toFixed(3)}`)
        .join(', ')})`,
    );
    expect(m.cases).toBe(60);
    expect(m.micro).toBeGreaterThanOrEqual(0.95);
    for (const [field, v] of Object.entries(m.perField)) expect(v, field).toBeGreaterThanOrEqual(0.9);
  });
});
