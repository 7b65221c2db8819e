/** Small text helpers shared by the fills, the validator and the status detector. */

/** Leading icons/bullets on a line: anything that is not a letter, digit or underscore (Unicode-aware). */
export const ICONS = String.raw`[^\p{L}\p{N}_\n]*`;
/** Lines longer than this are never label lines; capping keeps every per-line regex cheap. */
export const MAX_LINE_CHARS = 2000;

export function lines(text: string): string[] {
  return text.split(/\r\n|[\n\r\u2028\u2029]/).map((l) => (l.length > MAX_LINE_CHARS ? l.slice(0, MAX_LINE_CHARS) : l));
}

export function collapseSpaces(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/**
 * Comparison key for "does this snippet occur in the text": NFKC (Telegram's bold/italic math letters become
 * ASCII), lower-cased, only letters and digits kept — so whitespace, line breaks and punctuation changes
 * made by the model do not matter, but every word must be there in order.
 */
export function supportKey(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Trimmed, at most `max` code points (Python counted code points, so do we). */
export function clip(s: string, max: number): string {
  const cps = [...s.trim()];
  return cps.length > max ? cps.slice(0, max).join('') : cps.join('');
}
