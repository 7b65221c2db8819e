import { describe, expect, it } from 'vitest';
import { TimeAvailabilitySchema } from '../src/extraction/schema.ts';
import {
  applyFills,
  detectStatus,
  extractTimeAvailability,
  hardValidate,
  normalizeText,
  parseQualityScore,
  validateCanonical,
} from '../src/extraction/hardening/index.ts';

/** Deterministic PRNG so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const PIECES = [
  'Time: ',
  'Timing:',
  'Status: ',
  'Remarks:',
  'Address: ',
  'Location: ',
  'Rate: ',
  'Frequency: ',
  'Mon',
  'Tue',
  'Sat-Mon',
  'weekdays',
  'after',
  '7-9pm',
  '2.30-5.30pm',
  '1930-2100',
  '12am',
  '13pm',
  ' / ',
  ' | ',
  ', ',
  'no',
  'except',
  '$40/hr',
  'S642196',
  '(S)560123',
  '123456',
  'Online',
  'F2F',
  'home lessons',
  'tbc',
  'flexible',
  '📚',
  '🔹',
  '⛔️',
  'مرحبا',
  'שלום',
  '\u202e',
  '\u0000',
  '\uffff',
  '\ud800',
  'Ｓｅｃ３',
  '…',
  '–',
  '\t',
  '\r\n',
  '\n',
];
const HUGE = 200_000;

function adversarial(r: () => number, i: number): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  switch (i % 8) {
    case 0:
      return Array.from({ length: Math.floor(r() * 400) }, () => String.fromCharCode(Math.floor(r() * 0x10000))).join('');
    case 1:
      return Array.from({ length: Math.floor(r() * 300) }, () => pick(['📚', '🔥', '✅', '👩‍🏫', '🇸🇬', '⭐️'])).join(r() < 0.5 ? '' : '\n');
    case 2:
      return Array.from({ length: 1 + Math.floor(r() * 200) }, () => pick(['Time: ', 'Status: ', 'Remarks: ', 'Address: '])).join(r() < 0.5 ? '' : '\n');
    case 3:
      return Array.from({ length: Math.floor(r() * 120) }, () => pick(PIECES)).join(r() < 0.3 ? '' : ' ');
    case 4:
      return `${'مرحبا بالعالم '.repeat(20)}\u202eMon 7pm\u202c ${'שלום '.repeat(20)}`;
    case 5:
      return Array.from({ length: 1 + Math.floor(r() * 60) }, () => pick(PIECES)).join('\n');
    case 6:
      return pick(['', ' ', '\n\n\n', '0', '999999', '-', ':', '/', '12:', ':30', '1-', 'Mon-', '-Fri']);
    default:
      return Array.from({ length: Math.floor(r() * 50) }, () => `${Math.floor(r() * 100000)}${pick([':', '-', '.', 'am', 'pm', ' ', '/'])}`).join('');
  }
}

function hugeInputs(): string[] {
  return [
    'Time: '.repeat(HUGE / 6),
    '7'.repeat(HUGE),
    '📚'.repeat(HUGE / 2),
    'Mon-'.repeat(HUGE / 4),
    `${'Mon 7pm, '.repeat(HUGE / 9)}`,
    `🔹${' '.repeat(HUGE)}online lessons`,
    'home '.repeat(HUGE / 5),
    'a\n'.repeat(HUGE / 2),
    `Remarks: ${'x '.repeat(50)}\n`.repeat(HUGE / 110),
    Array.from({ length: HUGE / 8 }, (_, i) => String(100000 + i)).join(' '),
  ];
}

const RANDOM_VALUES: unknown[] = [
  null,
  undefined,
  0,
  -1,
  1e309,
  NaN,
  true,
  '',
  ' ',
  'x',
  [],
  [null, 1, 'a', {}],
  {},
  { mode: 5 },
  { min: '1e5' },
  [['nested']],
  Symbol.iterator.toString(),
];

function randomParsed(r: () => number): Record<string, unknown> {
  const keys = [
    'assignment_code',
    'academic_display_text',
    'learning_mode',
    'address',
    'postal_code',
    'nearest_mrt',
    'lesson_schedule',
    'start_date',
    'time_availability',
    'rate',
    'additional_remarks',
    'postal_code_estimated',
    'tutor_types',
    'rate_breakdown',
    'junk',
  ];
  const pick = () => RANDOM_VALUES[Math.floor(r() * RANDOM_VALUES.length)];
  return Object.fromEntries(keys.filter(() => r() < 0.6).map((k) => [k, pick()]));
}

/** Every stage on one input: it returns valid output and never throws (how fast: `npm run bench -- extract`). */
function exercise(text: string, parsed: Record<string, unknown>): void {
  const normalized = normalizeText(text);
  expect(typeof normalized).toBe('string');
  const filled = applyFills(parsed, text);
  for (const m of Object.values(filled.meta)) expect(m.ok).toBe(true);
  const time = extractTimeAvailability(text, normalized);
  expect(time.meta.ok).toBe(true);
  expect(TimeAvailabilitySchema.safeParse(time.value).success).toBe(true);
  const { cleaned } = hardValidate({ ...filled.parsed, time_availability: time.value }, text, normalized);
  expect(Array.isArray(validateCanonical(cleaned).errors)).toBe(true);
  expect(typeof parseQualityScore(cleaned, { region: null, nearestMrtComputed: null })).toBe('number');
  detectStatus(text);
}

describe('hardening robustness', () => {
  it('2,000 random/adversarial strings run through every stage without exceptions', () => {
    const r = rng(20260101);
    for (let i = 0; i < 2000; i++) exercise(adversarial(r, i), randomParsed(r));
  }, 120_000);

  it('200 KB inputs (repeated labels, digits, emoji, long lines) run through every stage without exceptions', () => {
    const r = rng(7);
    for (const text of hugeInputs()) exercise(text, randomParsed(r));
  }, 120_000);

  it('hard validator survives huge and hostile parsed objects', () => {
    const bigList = Array.from({ length: 50_000 }, (_, i) => `item ${i}`);
    const hostile = {
      address: bigList,
      postal_code: bigList,
      lesson_schedule: bigList,
      tutor_types: bigList,
      rate_breakdown: Object.fromEntries(bigList.slice(0, 5000).map((k) => [k, {}])),
      time_availability: { explicit: { monday: bigList } },
    };
    const { cleaned } = hardValidate(hostile, 'x'.repeat(HUGE));
    expect(cleaned.address).toBeNull();
  });
});
