import { describe, expect, it } from 'vitest';
import {
  buildSignals,
  canonicalizeSubjects,
  estimatePostalCodes,
  extractSubjects,
  extractTutorTypes,
  geoEnrich,
  parseAcademicRequests,
} from '../src/extraction/signals/index.ts';

/** Deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'Sec 3',
  'P5',
  'JC1',
  'IB Year 5',
  'igcse grade 9',
  'K1-K2',
  'Sec 1-4',
  'P1 to P6',
  'H2',
  'exp',
  'NA',
  'IP',
  'Math',
  'E.Maths',
  'A-Math',
  'Physics / Chem',
  'C++',
  'Accounting (POA)',
  'language & literature (english)',
  'PT $30-40 / FT $45-55 / Ex-MOE $60-80',
  '$1,200 per month',
  'S$',
  '$',
  '-',
  '/',
  '(',
  ')',
  '[',
  ']',
  '.',
  ',',
  '📍',
  'Address:',
  'Location：',
  'near Bishan MRT',
  '642196',
  'S(560123)',
  '\n',
  '\r\n',
  '\u2028',
  '\t',
  ' ',
  '   ',
  'שלום עולם',
  'مرحبا بالعالم',
  '\u202e',
  '\u200b',
  '\ufeff',
  '😀',
  '🇸🇬',
  '👩‍👩‍👧‍👦',
  '\u0000',
  '\ud800',
  '１２３４５６',
  'ℌ𝔢𝔩𝔩𝔬',
  'a'.repeat(50),
  '1'.repeat(40),
  '-'.repeat(30),
  '. '.repeat(30),
];

function randomString(next: () => number, i: number): string {
  const kind = i % 8;
  const len = Math.floor(next() * 60);
  if (kind === 0) return Array.from({ length: len * 10 }, () => String.fromCharCode(Math.floor(next() * 0xffff))).join('');
  if (kind === 1) return Array.from({ length: len }, () => ['😀', '🔥', '📍', '🇸🇬', '✅'][Math.floor(next() * 5)]).join('');
  if (kind === 2) return Array.from({ length: len }, () => ['ש', 'ל', 'ו', 'م', 'ر', '\u202e', '\u200f', ' '][Math.floor(next() * 8)]).join('');
  if (kind === 3) return Array.from({ length: len }, () => String.fromCharCode(Math.floor(next() * 32))).join('');
  return Array.from({ length: len }, () => PIECES[Math.floor(next() * PIECES.length)]).join(next() < 0.5 ? ' ' : '');
}

const HUGE = [
  'Sec 3 Math '.repeat(20_000),
  ' '.repeat(200_000),
  '.'.repeat(200_000),
  '$'.repeat(100_000),
  '1,'.repeat(100_000),
  'P5/'.repeat(50_000),
  `${'soc'.padEnd(100_000, ' ')}x`,
  'a-'.repeat(100_000),
  '📍'.repeat(50_000),
  `Location: ${'Boon '.repeat(40_000)}`,
];

function runAll(s: string): void {
  extractSubjects(s);
  parseAcademicRequests(s);
  canonicalizeSubjects(s, [s]);
  extractTutorTypes(s);
  estimatePostalCodes({ postal_code: null, address: [s] }, s);
  geoEnrich({ address: [s], nearest_mrt: [s], postal_code: [s] }, s);
  const out = buildSignals({ academic_display_text: s }, s, s);
  if (out.error !== null) throw new Error(`buildSignals error: ${out.error}`);
}

describe('robustness: 2,000 random and adversarial strings', () => {
  // How fast is measured in bench/extract.ts ("slowest adversarial input"), not asserted here: a catastrophic
  // backtrack still fails these by the test timeout.
  it('no exception on any of them', () => {
    const next = rng(20261128);
    for (let i = 0; i < 2000; i++) {
      const s = randomString(next, i);
      expect(() => runAll(s), JSON.stringify(s.slice(0, 80))).not.toThrow();
    }
  });
  it.each(HUGE.map((s, i) => [i, s] as const))('huge input #%i finishes without throwing', (_i, s) => {
    expect(() => runAll(s)).not.toThrow();
  });
  it('non-string inputs never throw', () => {
    for (const v of [null, undefined, 42, {}, [], Symbol.for('x'), () => 1] as unknown[]) {
      expect(() => runAll(v as string)).not.toThrow();
    }
  });
});
