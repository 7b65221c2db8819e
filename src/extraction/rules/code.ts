import { firstLabel, type Parsed } from './labels.ts';

/** A code-looking token: letters/digits (optionally with '-'), at least 3 chars, at least one digit. */
const TOKEN_RE = /#?\s*([A-Za-z0-9][A-Za-z0-9-]{1,24})/;

function fromLabel(value: string): string | null {
  const m = TOKEN_RE.exec(value);
  if (!m) return null;
  const tok = (m[1] ?? '').replace(/-+$/, '');
  return tok.length >= 3 && /\d/.test(tok) ? tok : null;
}

/** `#A8703`, `#ASN1607`, `#C717` style tags (uppercase letters then ≥3 digits); not hashtags like #Primary_Math or #P3. */
const HASH_TAG_RE = /(?:^|[\s(])#([A-Z]{1,4}\d{3,}[A-Z0-9]{0,4})(?![\w])/g;
/** Compact list item at a line start, "0706si:". */
const COMPACT_RE = /^\s*(\d{3,6}[A-Za-z]{1,3})\s*:/;
/** A line holding nothing but an uppercase alphanumeric code (e.g. "AAB2768"). */
const LONE_CODE_RE = /^([A-Z]{1,5}\d{3,8}[A-Z]{0,3})$/;

/** "Assignment #1234", "Job no. 5521", "Case #A12": a job word and a number sign or "no." before the code. */
const JOB_NUMBER_RE = /\b(?:assignment|job|case|ref(?:erence)?|listing)\s*(?:#|no\.?\s*#?|number\s*#?)\s*([A-Za-z]{0,4}\d{2,8}[A-Za-z]{0,3})\b/i;
/** A code-like token alone between "|" of a field line ("4521 | Sec 2 English | Tampines 520111 | $40/h"): not a postal code or a price. */
function codeAmongBars(line: string): string | null {
  const parts = line.split('|').map((x) => x.trim());
  if (parts.length < 3) return null;
  for (const part of parts) {
    if (/^#?(?:[A-Za-z]{1,4}\d{2,8}[A-Za-z]{0,3}|\d{3,8}[A-Za-z]{0,3})$/.test(part) && !/^\d{6}$/.test(part.replace('#', ''))) return part.replace('#', '');
  }
  return null;
}

export function extractCode(p: Parsed): string | null {
  const labelled = firstLabel(p, 'code');
  if (labelled) {
    const c = fromLabel(labelled.value);
    if (c) return c;
  }
  for (const line of p.lines) {
    const m = JOB_NUMBER_RE.exec(line.clean) ?? JOB_NUMBER_RE.exec(line.raw);
    if (m?.[1] && /\d/.test(m[1])) return m[1];
  }
  for (const line of p.lines) {
    const c = codeAmongBars(line.raw);
    if (c) return c;
  }
  const tags = new Set<string>();
  for (const line of p.lines) {
    for (const m of line.raw.matchAll(HASH_TAG_RE)) if (m[1]) tags.add(m[1]);
  }
  // Several distinct tags are ambiguous: no code rather than a guess.
  if (tags.size === 1) return [...tags][0] ?? null;
  if (tags.size > 1) return null;
  for (const line of p.lines) {
    const m = COMPACT_RE.exec(line.raw);
    // "430pm: Mon / Wed" is a time
    if (m?.[1] && !/^\d{3,4}[ap]m$/i.test(m[1])) return m[1];
  }
  for (const line of p.lines) {
    const m = LONE_CODE_RE.exec(line.clean);
    // "S530111" alone on a line is a postal code
    if (m?.[1] && !/^S\d{6}$/.test(m[1])) return m[1];
  }
  return null;
}
