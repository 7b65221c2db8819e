/**
 * Assignment-code extraction, a pure function of the raw text.
 *
 * Differences from the reference, each a fix:
 * - the "job/assignment id|code" pattern no longer captures any following word ("Job code for" → FOR):
 *   a captured value must contain a digit.
 * - "#" tags with a single-letter prefix ("#A9638", "#C717") are codes (the reference needed ≥2 letters).
 * - "Code ID: 1412wg" (digits + up to 3 letters) is a code (the reference took exactly one letter).
 * - "Assignment Code: 11310" keeps explicitly labelled all-digit codes of ≥4 digits (pattern 2 only);
 *   a bare "ID: 12345" is still not a code.
 * - "id|code: X" is not read after "postal" ("Postal code: S650526" is a postal code, not an assignment code),
 *   and accepts mixed codes with ≥3 digits ("Code: OS4AL0365", "Code: A64258128TJ").
 * - Two patterns of ours: "Ref: 11689" and a line holding only an upper-case code ("🔹AAB2768").
 * Every pattern is linear (bounded quantifiers, no nested repetition).
 */

export interface CodeOccurrence {
  /** upper-cased code */
  code: string;
  /** the text as printed */
  verbatim: string;
  /** offset of the verbatim text in the input */
  index: number;
  pattern: string;
}

export interface CodeExtractionMeta {
  ok: boolean;
  reason?: 'empty_text';
  codes_count: number;
  /** all raw matches of all patterns, including dropped ones and duplicates */
  total_matches: number;
  /** pattern name → number of raw matches */
  patterns_hit: Record<string, number>;
}

export interface CodeExtraction {
  codes: string[];
  meta: CodeExtractionMeta;
}

interface CodePattern {
  name: string;
  re: RegExp;
  /** extra acceptance rule on the captured value (after the common length / all-digit rule) */
  accept?: (value: string) => boolean;
  /** allow all-digit values of at least this many digits */
  allowDigitsFrom?: number;
}

const hasDigit = (v: string): boolean => /\d/.test(v);
const atLeastThreeDigits = (v: string): boolean => (v.match(/\d/g) ?? []).length >= 3;

const PATTERNS: readonly CodePattern[] = [
  // 1. compact list item at a line start: "0706si: …"
  { name: 'compact_line', re: /^[ \t]*(\d{3,6}[a-z]{1,3})[ \t]*:/gim, accept: (v) => !/^\d{3,4}[ap]m$/i.test(v) },
  // 2. "Job ID: X", "Assignment Code - X", "Job #X", "Job No: X"
  {
    name: 'job_label',
    re: /\b(?:job|assignment)[ \t]+(?:id|code|no\.?|#)[ \t]*[:-]?[ \t]*#?[ \t]*([a-z0-9]{1,24})/gi,
    accept: hasDigit,
    allowDigitsFrom: 4,
  },
  // 3. "ID: AB123", "Code: #ASN1712", "Code: A64258128TJ" (not after "postal")
  { name: 'id_code', re: /(?<!postal[ \t]{1,3})\b(?:id|code)[ \t]*[:-]?[ \t]*#?([a-z][a-z0-9]{3,15})\b/gi, accept: atLeastThreeDigits },
  // 4. "Code ID: 28011H", "Code ID: 1412wg"
  { name: 'code_id', re: /\bcode[ \t]+id[ \t]*[:-]?[ \t]*(\d{3,6}[a-z]{1,3})\b/gi },
  // 5. "#ASN1712", "#A8703" (not "#sec4", not "#P3")
  { name: 'hash_tag', re: /#([a-z]{1,6}\d{3,12})\b/gi },
  // 6. (ours) "Ref: 11689", "Reference No: R1234"
  {
    name: 'ref_label',
    re: /\bref(?:erence)?(?:[ \t]+(?:no\.?|code|id))?[ \t]*[:#][ \t]*([a-z0-9]{3,16})\b/gi,
    accept: hasDigit,
    allowDigitsFrom: 4,
  },
  // 7. (ours) a line holding nothing but an upper-case code after bullets: "🔹AAB2768" (case-sensitive)
  { name: 'lone_code_line', re: /^[^\p{L}\p{N}\n]{0,6}([A-Z]{1,5}\d{3,8}[A-Z]{0,3})[ \t]*$/gmu, accept: (v) => !/^S\d{6}$/.test(v) },
  // 8. (ours) an upper-case code opening a one-line item: "• QX-201 – P5 Maths @ …", "FT7792 | Sec 4 …" (not a postal "S670221")
  {
    name: 'leading_code',
    re: /^(?:[^\p{L}\p{N}\n]|\d\uFE0F?\u20E3){0,6}([A-Z]{1,5}-?\d{2,8}[A-Z]{0,3})[ \t]*[-–—|:][ \t]/gmu,
    accept: (v) => !/^S\d{6}$/.test(v) && (v.match(/\d/g) ?? []).length >= 2,
  },
  // 9. (ours) "A) Code 7711", "Job 5521", "Case 20451" opening a line, no colon
  {
    name: 'line_label',
    re: /^[^\p{L}\p{N}\n]{0,8}(?:[A-Za-z]\)[ \t]*)?(?:code|job|case)[ \t]+(?:no\.?[ \t]*)?#?[ \t]*(\d{4,8}|[A-Za-z]{1,4}-?\d{3,8})\b/gimu,
    allowDigitsFrom: 4,
  },
  // 10. (ours) slashed or dashed numbers after a code label: "Case No: SC/24/0921", "Job Ref: 2026-0311"
  {
    name: 'slashed_code',
    re: /\b(?:case|job|ref|reference|assignment)(?:[ \t]+(?:no\.?|id|ref|code|#))?[ \t]*[:#][ \t]*([a-z0-9]{1,6}(?:[/-][a-z0-9]{1,8}){1,3})\b/gi,
    accept: atLeastThreeDigits,
  },
];

function keepValue(value: string, p: CodePattern): boolean {
  if (value.length < 3) return false;
  if (/^\d+$/.test(value)) return p.allowDigitsFrom !== undefined && value.length >= p.allowDigitsFrom;
  return p.accept ? p.accept(value) : true;
}

/** Every accepted code occurrence, pattern by pattern (pattern order, then text order), plus match statistics. */
export function findCodeOccurrences(text: string): { occurrences: CodeOccurrence[]; totalMatches: number; patternsHit: Record<string, number> } {
  const occurrences: CodeOccurrence[] = [];
  const patternsHit: Record<string, number> = {};
  let totalMatches = 0;
  for (const p of PATTERNS) {
    for (const m of text.matchAll(p.re)) {
      totalMatches++;
      patternsHit[p.name] = (patternsHit[p.name] ?? 0) + 1;
      const raw = m[1] ?? '';
      const value = raw.trim();
      if (!keepValue(value, p)) continue;
      const index = (m.index ?? 0) + m[0].lastIndexOf(raw);
      occurrences.push({ code: value.toUpperCase(), verbatim: value, index, pattern: p.name });
    }
  }
  return { occurrences, totalMatches, patternsHit };
}

export function extractAssignmentCodes(text: string | null | undefined): CodeExtraction {
  const t = typeof text === 'string' ? text : '';
  if (t.trim() === '') {
    return { codes: [], meta: { ok: false, reason: 'empty_text', codes_count: 0, total_matches: 0, patterns_hit: {} } };
  }
  const { occurrences, totalMatches, patternsHit } = findCodeOccurrences(t);
  const codes: string[] = [];
  for (const o of occurrences) if (!codes.includes(o.code)) codes.push(o.code);
  return { codes, meta: { ok: true, codes_count: codes.length, total_matches: totalMatches, patterns_hit: patternsHit } };
}

/** Worth treating as a possible compilation: at least `minCodes` codes. */
export function shouldProcessCompilation(codes: readonly string[], minCodes = 1): boolean {
  return codes.length >= minCodes;
}

/** The earliest code in the text, as printed (e.g. "0706si"), or null. */
export function firstCodeVerbatim(text: string): string | null {
  let best: CodeOccurrence | null = null;
  for (const o of findCodeOccurrences(text).occurrences) if (best === null || o.index < best.index) best = o;
  return best?.verbatim ?? null;
}
