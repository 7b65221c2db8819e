import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.ts';
import { CanonicalAssignmentSchema, createExtractor, processPost } from '../src/extraction/index.ts';

/** Deterministic PRNG so a failure reproduces. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const LABELS = [
  'Subject',
  'Level',
  'Location',
  'Address',
  'Rate',
  'Fee',
  'Budget',
  'Frequency',
  'Duration',
  'Time',
  'Day',
  'Start',
  'Remarks',
  'Code',
  'Status',
  'Postal',
];
const PIECES = [
  '$45/hr',
  '$30-$40',
  'Sec 3 A-Math',
  'P5 Science',
  'JC2 H2 Chem',
  '123456',
  'S650526',
  'Bishan MRT',
  'Mon 7pm',
  'Tues & Thurs 4-6pm',
  '1.5h x 1/week',
  'ASAP',
  'Online',
  'F2F',
  'Ex-MOE $70',
  '📚',
  '🔥🔥',
  'مرحبا بالعالم',
  'שלום',
  '\u202e',
  '\u0000',
  '\uffff',
  'Ｓｅｃ３',
  '…',
  '#A1234',
];

function adversarial(r: () => number, i: number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  switch (i % 10) {
    case 0: // random bytes as latin-1 / binary noise
      return Array.from({ length: Math.floor(r() * 400) }, () => String.fromCharCode(Math.floor(r() * 0x3000))).join('');
    case 1: // emoji only
      return Array.from({ length: Math.floor(r() * 200) }, () => pick(['📚', '🔥', '✅', '👩‍🏫', '🇸🇬', '⭐️'])).join(r() < 0.5 ? '' : '\n');
    case 2: // repeated labels
      return Array.from({ length: 1 + Math.floor(r() * 300) }, () => `${pick(LABELS)}: ${pick(LABELS)}: ${pick(PIECES)}`).join(r() < 0.5 ? '\n' : ' ');
    case 3: // long single line of digits and separators (regex stress)
      return `${'1'.repeat(Math.floor(r() * 5000))}${'-$/'.repeat(Math.floor(r() * 2000))}`;
    case 4: // plausible post with shuffled lines
      return Array.from(
        { length: 3 + Math.floor(r() * 15) },
        () => `${pick(['', '• ', '📍', '💰 ', '*'])}${pick(LABELS)}${pick([':', ' -', '：', ''])} ${pick(PIECES)} ${pick(PIECES)}`,
      ).join('\n');
    case 5: // whitespace and control characters
      return Array.from({ length: Math.floor(r() * 300) }, () => pick([' ', '\t', '\n', '\r', '\u00a0', '\u2028', '\u200b'])).join('');
    case 6: // RTL mixed with numbers
      return Array.from({ length: 50 }, () => `${pick(PIECES)} ${pick(['مرحبا', 'שלום', '\u202e123456\u202c'])}`).join(' ');
    case 7: // many times and days
      return Array.from(
        { length: 200 },
        () =>
          `${pick(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun', 'weekday', 'weekend'])} ${Math.floor(r() * 24)}${pick(['pm', 'am', ':30', '.15'])}-${Math.floor(r() * 24)}${pick(['pm', 'am', ''])}`,
      ).join(', ');
    case 8: // nested brackets and quotes
      return `${'('.repeat(500)}${'"'.repeat(300)}${'{['.repeat(300)}`;
    default: // random printable
      return Array.from({ length: Math.floor(r() * 2000) }, () => String.fromCharCode(32 + Math.floor(r() * 95))).join('');
  }
}

describe('rules extraction + hardening under random and adversarial input', () => {
  it('10,000 posts: no exception, valid canonical output', async () => {
    const extractor = createExtractor(loadConfig({ env: {}, envFile: null }), 'rules');
    const r = rng(20261128);
    const texts = Array.from({ length: 10_000 }, (_, i) => adversarial(r, i));
    texts.push('x'.repeat(300_000), `Subject: ${'Math '.repeat(40_000)}`, 'Rate: $'.repeat(20_000));
    // how fast: `npm run bench -- extract`; here, that every post finishes with valid output
    for (const text of texts) {
      const result = await processPost({ text, channelLink: 't.me/fuzz_agency', isForward: false, isReply: false, deleted: false }, { extractor });
      expect(['ok', 'skipped']).toContain(result.outcome);
      if (result.outcome === 'ok') for (const item of result.items) expect(CanonicalAssignmentSchema.safeParse(item.canonical).success).toBe(true);
    }
  }, 300_000);
});
