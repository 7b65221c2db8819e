import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.ts';
import { createExtractor, matchingItemFrom, processPost, type MatchingItem } from '../src/extraction/index.ts';

/**
 * Failure classes seen on real posts of agencies outside the fixtures (issue 16), each tried on posts written
 * here in shapes the fixtures do not have. What is checked is what matching reads (matchingItemFrom).
 */
const extractor = createExtractor(loadConfig({ env: {}, envFile: null }), 'rules');

async function matching(text: string): Promise<MatchingItem> {
  const result = await processPost({ text, channelLink: null, isForward: false, isReply: false, deleted: false }, { extractor });
  if (result.outcome !== 'ok') throw new Error(`skipped: ${result.reason}`);
  return matchingItemFrom(result.items[0]!);
}

const sorted = (xs: readonly string[]) => [...xs].sort();

describe('tutor types: student tutors, qualifications, "and above"', () => {
  it.each([
    ['Job 88: P5 Maths @ Tampines 520123\nTutor type: Undergrad / Poly student\nRate: $25/h', ['student']],
    ['Sec 1 English at Hougang 530456\nBudget: $30-40/hr (NUS undergrad)\nMon 4pm', ['student']],
    ['Sec 2 Science, Woodlands 730111\nPT tutors & above welcome. $35/h', ['part_time', 'full_time', 'moe']],
    ['JC1 Chemistry @ Bishan 570222\n$70/hr\nRequirements: female, Full Time / Graduate Tutor', ['full_time']],
    ['P6 Science @ Pasir Ris 510333\nStudent is shy and needs patience; looking for an ex-MOE teacher. $80/h', ['moe']],
    ['P3 Chinese @ Yishun 760444\nPart-time (non-student) tutors only, $30/h', ['part_time']],
    ['Sec 4 Physics @ Bedok 460555, $50/h\nFamiliar with the MOE syllabus please', []],
    ['Sec 3 A Math @ Clementi 120666\nRates: Student $25-30/h | Full-timer $45-55/h', ['student', 'full_time']],
  ])('%s', async (text, types) => {
    expect(sorted((await matching(text)).tutor_types)).toEqual(sorted(types));
  });
});
