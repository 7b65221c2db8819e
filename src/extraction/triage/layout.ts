/**
 * Text-layout helpers shared by the triage detectors: line endings, lines, paragraphs, separator lines.
 * All linear; nothing here throws.
 */

/** CRLF / CR / Unicode line separators → "\n" (same length is not preserved; callers work on the result). */
export function normalizeNewlines(text: string): string {
  return text.replace(/\r\n?|[\u2028\u2029\u0085\v\f]/g, '\n');
}

export interface LineSpan {
  text: string;
  start: number;
  end: number;
}

export function lineSpans(text: string): LineSpan[] {
  const out: LineSpan[] = [];
  let start = 0;
  while (start <= text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    out.push({ text: text.slice(start, end), start, end });
    if (nl < 0) break;
    start = nl + 1;
  }
  return out;
}

export function nonEmptyLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** Non-blank chunks separated by 2+ consecutive newlines (blank lines may hold spaces/tabs). */
export function blocks(text: string): string[] {
  return text.split(/\n[ \t\r]*\n/).filter((b) => b.trim() !== '');
}

/**
 * A separator line: only punctuation / box-drawing / a repeated emoji, at least 3 visible characters,
 * e.g. "-----", "=====", "- - - - -", "_____", "•••", "〰〰〰", "➖➖➖".
 */
export function isSeparatorLine(line: string): boolean {
  const compact = line.replace(/\s|\uFE0F|\u200D/g, '');
  if (compact.length < 3 || compact.length > 400) return false;
  if (/[\p{L}\p{N}]/u.test(compact)) return false;
  const chars = Array.from(compact);
  if (chars.length < 3) return false;
  // one or two distinct symbols repeated (e.g. "-=-=-", "➖➖➖", "*****")
  return new Set(chars).size <= 2;
}

/**
 * Returns a lookup: offset → start of its paragraph (just after the last blank line before it, skipping
 * following whitespace), or 0 when no blank line precedes it. Blank-line ends are computed once (O(n)),
 * each lookup is a binary search.
 */
export function paragraphStartFinder(text: string): (pos: number) => number {
  const ends: number[] = [];
  for (const m of text.matchAll(/\n[ \t]*(?=\n)/g)) ends.push((m.index ?? 0) + m[0].length + 1);
  return (pos: number): number => {
    let lo = 0;
    let hi = ends.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((ends[mid] ?? 0) <= pos) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return 0;
    let i = ends[found] ?? 0;
    while (i < pos && /\s/.test(text[i] ?? '')) i++;
    return i;
  };
}

/** Offset of the start of the line containing `pos`. */
export function lineStart(text: string, pos: number): number {
  const nl = text.lastIndexOf('\n', Math.max(0, pos - 1));
  return pos === 0 ? 0 : nl + 1;
}

/** "Assignment 1:", "Job 2 -", "Assignment #3)", "Case 4" at a line start (after bullets/spaces); group 1 = the number. */
export const ENUMERATED_LABEL_RE = /^[^\p{L}\p{N}\n]{0,6}(?:assignment|job|case)[ \t]*#?[ \t]*(\d{1,3})[ \t]*(?:[:).\-–]|$)/gimu;
