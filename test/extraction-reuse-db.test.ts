import { expect, it } from 'vitest';
import { DatabaseReuseStore, emptyLlmAssignment } from '../src/extraction/index.ts';
import { describeEachDatabase } from './support/databases.ts';

describeEachDatabase('LLM reuse store in the database', (t) => {
  it('returns what was stored under the same key, counts hits, and treats unknown or invalid values as misses', async () => {
    const store = new DatabaseReuseStore(t.db);
    const value = { ...emptyLlmAssignment(), assignment_code: 'A1', rate: { min: 40, max: 50, raw_text: '$40-50/h' } };
    expect(await store.get('k1')).toBeNull();
    await store.put('k1', value);
    await store.put('k1', value); // a second worker racing on the same post
    expect(await store.get('k1')).toEqual(value);
    expect(await t.db.query('select hits from llm_reuse where key = $1', ['k1'])).toEqual([{ hits: 1 }]);
    await t.db.query(`insert into llm_reuse (key, value) values ('bad', '{"assignment_code": 5}')`);
    expect(await store.get('bad')).toBeNull();
  });
});
