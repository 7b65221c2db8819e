import type { Parsed } from './labels.ts';

/**
 * Singapore postal codes: six digits, optionally written as "S123456", "(S)123456", "S(123456)", "Singapore 123456";
 * rejected when glued to other digits/letters, preceded by "$", "#", "+65" or an id/code label, or when the sector
 * (first two digits) is outside 01–82.
 */
const POSTAL_RE = /(^|[^A-Za-z0-9$#+])((?:\(\s*[Ss]\s*\)\s*|[Ss]\s?\(?\s*|Singapore[\s+]*\(?\s*)?)(\d{6})(?![0-9A-Za-z])/g;
const GUARD_BEFORE = /(?:\b(?:id|code|ref|no|job|number|#|tel|hp|phone|call|whatsapp)\s*[:.]?\s*|\+65\s*|\$\s*)$/i;

function validSector(code: string): boolean {
  const sector = Number(code.slice(0, 2));
  return sector >= 1 && sector <= 82;
}

export function findPostalCodes(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(POSTAL_RE)) {
    const code = m[3] ?? '';
    const before = text.slice(Math.max(0, (m.index ?? 0) - 24), (m.index ?? 0) + (m[1] ?? '').length);
    if (!m[2] && GUARD_BEFORE.test(before)) continue;
    if (!validSector(code)) continue;
    if (!out.includes(code)) out.push(code);
  }
  return out;
}

export function extractPostal(p: Parsed): string[] | null {
  const codes: string[] = [];
  for (const line of p.lines) {
    for (const c of findPostalCodes(line.raw)) if (!codes.includes(c)) codes.push(c);
  }
  return codes.length ? codes : null;
}
