import { describe, expect, it } from 'vitest';
import { loadExamples, parseExamplesFile } from '../src/extraction/examples.ts';
import { emptyLlmAssignment } from '../src/extraction/schema.ts';
import { listF1, nt, scoreCase, snippet, summarize, tokF1 } from '../src/extraction/score.ts';

const DIR = 'test/fixtures/message_examples';
const examples = loadExamples(DIR);

function withFields(patch: Record<string, unknown>): Record<string, unknown> {
  return { ...emptyLlmAssignment(), ...patch };
}

describe('examples corpus', () => {
  it('parses every agency file with its channel link', () => {
    expect(examples.length).toBe(77);
    expect(new Set(examples.map((e) => e.agency)).size).toBe(16);
    expect(examples.every((e) => e.channelLink?.startsWith('t.me/'))).toBe(true);
    expect(examples.every((e) => e.raw.length > 0 && typeof e.expected === 'object')).toBe(true);
  });

  it('parses Raw:/JSON: blocks: braces inside strings, skipped cases without JSON', () => {
    const text = [
      '# Agency (t.me/Example)',
      'Example 1:',
      'Raw: first post',
      'line two',
      'JSON :',
      '{"a": "x } y", "b": {"c": 1}}',
      'Example 2:',
      'Raw: no json here',
      'JSON:',
    ].join('\n');
    const cases = parseExamplesFile(text);
    expect(cases).toEqual([{ raw: 'first post\nline two', expected: { a: 'x } y', b: { c: 1 } } }]);
  });
});

describe('scoreCase', () => {
  it('scores every fixture case 1.0 against itself', () => {
    for (const e of examples) {
      const s = scoreCase(e.expected, e.expected);
      expect(s.total).toBe(1);
      expect(s.exact).toBe(true);
    }
  });

  it('gives an all-empty prediction about 0.285 micro', () => {
    const rows = examples.map((e) => ({ agency: e.agency, ...scoreCase(e.expected, emptyLlmAssignment()) }));
    expect(Math.abs(summarize(rows).micro - 0.285)).toBeLessThanOrEqual(0.03);
  });

  it('normalises assignment codes (#, spaces, case)', () => {
    const s = scoreCase(withFields({ assignment_code: '#a 8703' }), withFields({ assignment_code: 'A8703' }));
    expect(s.perField.assignment_code).toBe(1);
    expect(scoreCase(withFields({ assignment_code: 'A8703' }), withFields({ assignment_code: 'A8704' })).perField.assignment_code).toBe(0);
  });

  it('treats S-prefixed postal codes as the bare digits', () => {
    const s = scoreCase(withFields({ postal_code: ['692235'] }), withFields({ postal_code: ['S692235'] }));
    expect(s.perField.postal_code).toBe(1);
    expect(scoreCase(withFields({ postal_code: ['692235'] }), withFields({ postal_code: ['(S)692235', '123456'] })).perField.postal_code).toBeCloseTo(2 / 3);
  });

  it('uses snippet containment for raw-text fields', () => {
    expect(snippet('$40-60/h (Online or Physical)', '$40-60/h')).toBe(1);
    expect(snippet('ab', 'abc')).toBeLessThan(1);
    const s = scoreCase(
      withFields({ rate: { min: null, max: null, raw_text: 'Rate: $30/hr' } }),
      withFields({ rate: { min: null, max: null, raw_text: '$30/hr' } }),
    );
    expect(s.perField['rate.raw_text']).toBe(1);
  });

  it('matches list items greedily one-to-one', () => {
    const exact = (a: string, b: string) => a === b;
    expect(listF1(['a', 'b'], ['a', 'b'], exact)).toBe(1);
    expect(listF1(['a', 'b'], ['a'], exact)).toBeCloseTo(2 / 3);
    // one predicted item cannot satisfy two expected items
    const contains = (a: string, b: string) => a.includes(b) || b.includes(a);
    expect(listF1(['tiong bahru', 'havelock'], ['tiong bahru, havelock'], contains)).toBeCloseTo(2 / 3);
    const s = scoreCase(withFields({ address: ['Tampines', 'East Coast'] }), withFields({ address: ['East Coast', 'Tampines'] }));
    expect(s.perField.address).toBe(1);
    const sched = scoreCase(withFields({ lesson_schedule: ['Frequency: 1.5 Hr, 1x A Week'] }), withFields({ lesson_schedule: ['1.5 Hr, 1x A Week'] }));
    expect(sched.perField.lesson_schedule).toBe(1);
    const mrt = scoreCase(withFields({ nearest_mrt: ['Layar'] }), withFields({ nearest_mrt: ['Layar LRT'] }));
    expect(mrt.perField.nearest_mrt).toBe(1);
  });

  it('compares rates numerically within 0.01, numeric strings allowed, booleans not', () => {
    const e = withFields({ rate: { min: 40, max: 50, raw_text: null } });
    expect(scoreCase(e, withFields({ rate: { min: 40.005, max: '50', raw_text: null } })).perField['rate.min']).toBe(1);
    expect(scoreCase(e, withFields({ rate: { min: 40.005, max: '50', raw_text: null } })).perField['rate.max']).toBe(1);
    expect(scoreCase(e, withFields({ rate: { min: 41, max: true, raw_text: null } })).perField['rate.min']).toBe(0);
    expect(scoreCase(e, withFields({ rate: { min: 41, max: true, raw_text: null } })).perField['rate.max']).toBe(0);
  });

  it('strips a leading "start" phrase from start dates', () => {
    expect(scoreCase(withFields({ start_date: 'ASAP' }), withFields({ start_date: 'Start ASAP' })).perField.start_date).toBe(1);
    expect(scoreCase(withFields({ start_date: '12-Sep-24' }), withFields({ start_date: 'Earliest start date: 12-Sep-24' })).perField.start_date).toBe(1);
    expect(scoreCase(withFields({ start_date: 'Jan 2026' }), withFields({ start_date: 'March' })).perField.start_date).toBe(0);
  });

  it('scores a miss and a hallucination as 0, two empties as 1', () => {
    expect(scoreCase(withFields({ nearest_mrt: ['Bishan'] }), withFields({ nearest_mrt: null })).perField.nearest_mrt).toBe(0);
    expect(scoreCase(withFields({ nearest_mrt: [] }), withFields({ nearest_mrt: ['Bishan'] })).perField.nearest_mrt).toBe(0);
    expect(scoreCase(withFields({ nearest_mrt: ['  '] }), withFields({ nearest_mrt: null })).perField.nearest_mrt).toBe(1);
  });

  it('survives malformed predictions', () => {
    for (const bad of [null, 42, 'x', [], { rate: 'cheap', learning_mode: 'Online', address: 'Bishan' }]) {
      const s = scoreCase(examples[0]?.expected, bad);
      expect(s.total).toBeGreaterThanOrEqual(0);
      expect(s.total).toBeLessThanOrEqual(1);
    }
  });

  it('helpers: nt and tokF1', () => {
    expect(nt('  “Hello”   World. ')).toBe('"hello" world');
    expect(tokF1('', '')).toBe(1);
    expect(tokF1('a b', 'a c')).toBeCloseTo(0.5);
  });
});

describe('summarize', () => {
  it('reports per-field, per-agency, micro, macro and exact rate', () => {
    const pf = (v: number) => ({ assignment_code: v });
    const s = summarize([
      { agency: 'a', perField: pf(1), total: 1, exact: true },
      { agency: 'a', perField: pf(0), total: 0.5, exact: false },
      { agency: 'b', perField: pf(1), total: 0.25, exact: false },
    ]);
    expect(s.micro).toBeCloseTo(1.75 / 3);
    expect(s.macro).toBeCloseTo((0.75 + 0.25) / 2);
    expect(s.perAgency).toEqual({ a: 0.75, b: 0.25 });
    expect(s.perField.assignment_code).toBeCloseTo(2 / 3);
    expect(s.exactRate).toBeCloseTo(1 / 3);
  });
});
