import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.ts';
import {
  createExtractor,
  loadMatchingGold,
  matchingItemFrom,
  MATCHING_FIELDS,
  processPost,
  scoreMatchingPost,
  type MatchingItem,
} from '../src/extraction/index.ts';

const GOLD = path.resolve('test/fixtures/matching_gold/dev.jsonl');

const item = (over: Partial<MatchingItem> = {}): MatchingItem => ({
  levels: ['Secondary'],
  specific_levels: ['Secondary 3'],
  subjects: ['MATH.SEC_AMATH'],
  mode: 'face_to_face',
  postal_code: '570123',
  days: ['tuesday'],
  rate_hourly_min: 45,
  rate_hourly_max: 55,
  tutor_types: [],
  uncertain: [],
  ...over,
});

const allFields = (score: number) => Object.fromEntries(MATCHING_FIELDS.map((f) => [f, score]));

describe('matching-field scoring', () => {
  it('the dev gold scored against itself is perfect on every post and field', () => {
    const gold = loadMatchingGold(GOLD);
    expect(gold.size).toBe(77);
    for (const [key, items] of gold) expect(scoreMatchingPost(items, items), key).toEqual(allFields(1));
  });

  it('sets score by F1, scalars exactly; missing or extra items cost; the best pairing is used', () => {
    const gold = item();
    expect(scoreMatchingPost([gold], [item({ subjects: ['MATH.SEC_AMATH', 'SCIENCE.PHYSICS'], rate_hourly_max: 60 })])).toMatchObject({
      subjects: 2 / 3,
      rate_hourly_max: 0,
      rate_hourly_min: 1,
    });
    // a compilation of two read as one post: every field at most half
    const second = item({ levels: ['Primary'], specific_levels: ['Primary 5'], subjects: ['SCIENCE.GENERAL'], postal_code: '640123' });
    const half = scoreMatchingPost([gold, second], [second]);
    expect(half.subjects).toBe(0.5);
    expect(half.mode).toBe(0.5);
    // order of the predicted items does not matter
    expect(scoreMatchingPost([gold, second], [second, gold])).toEqual(allFields(1));
    // nothing predicted for an assignment scores 0; nothing on either side scores 1
    expect(scoreMatchingPost([gold], [])).toEqual(allFields(0));
    expect(scoreMatchingPost([], [])).toEqual(allFields(1));
    expect(scoreMatchingPost([], [gold])).toEqual(allFields(0));
  });

  it('days: null, [] and all seven days are all "no constraint"', () => {
    const week = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as MatchingItem['days'];
    expect(scoreMatchingPost([item({ days: null })], [item({ days: [] })]).days).toBe(1);
    expect(scoreMatchingPost([item({ days: [] })], [item({ days: week })]).days).toBe(1);
    expect(scoreMatchingPost([item({ days: null })], [item({ days: ['monday'] })]).days).toBe(0);
  });

  it('a bad gold file is one clear error naming the line', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-gold-'));
    try {
      const file = path.join(dir, 'gold.jsonl');
      writeFileSync(file, `{"file":"a.txt","example":1,"items":[]}\n{"file":"a.txt","example":2,"items":[{"levels":[]}]}\n`);
      expect(() => loadMatchingGold(file)).toThrow(/gold\.jsonl line 2: items\.0\.specific_levels: /);
      writeFileSync(file, `{"file":"a.txt","example":1,"items":[]}\nnot json\n`);
      expect(() => loadMatchingGold(file)).toThrow(/line 2: not JSON/);
      writeFileSync(file, `{"file":"a.txt","example":1,"items":[]}\n{"file":"a.txt","example":1,"items":[]}\n`);
      expect(() => loadMatchingGold(file)).toThrow(/a\.txt#1 is labelled twice/);
      expect(() => loadMatchingGold(path.join(dir, 'none.jsonl'))).toThrow(/cannot read matching gold/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an extracted post reads as what the product stores and matches on', async () => {
    const extractor = createExtractor(loadConfig({ env: {}, envFile: null }), 'rules');
    const text =
      'Assignment Code: A1234\nSubject: Sec 3 A-Math\nLocation: Blk 123 Bishan St 12 (570123)\nRate: $45-55/hr\nFrequency: 1.5hr x 1/week, Tue 7pm\nMode: Face to face\nRemarks: female tutor preferred';
    const result = await processPost({ text, channelLink: null, isForward: false, isReply: false, deleted: false }, { extractor });
    expect(result.outcome).toBe('ok');
    if (result.outcome !== 'ok') return;
    expect(matchingItemFrom(result.items[0]!)).toEqual(item({ tutor_types: [] }));
  });
});
