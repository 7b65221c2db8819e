/**
 * Deterministic compilation confirmation and splitting (replaces the reference's LLM code extractor).
 *
 * Strategies, tried in order; the first that yields ≥2 items that each look like an assignment wins:
 *  1. codes        — one item per distinct assignment code (codes.ts). Codes are taken verbatim from the text,
 *                    so verification is case-insensitive by construction (lower-case
 *                    "0706si" confirms). Cuts at the code's paragraph; when several codes share a paragraph,
 *                    at the code's line instead (so compact lists do not collapse into one item). When the
 *                    text before the first code is itself an assignment, codes are footers ("Job ID" last)
 *                    and the next item starts at the first later paragraph that looks like an assignment
 *                    ("Tags:" / "Commission:" tails stay with their item). A one-line title paragraph
 *                    ("🟡 Reposted Assignment 🟡") just before an item start moves into that item.
 *  2. enumeration  — "Assignment 1:" / "Job 2" labels, else a numbered list "1." "2)" … in sequence.
 *  3. separators   — separator lines ("-----", "=====", "➖➖➖").
 *  4. repeated label — paragraphs that open with the same field label ("Subject:" … "Subject:").
 * Text before the first item that is not itself an assignment is a shared header, trailing boilerplate after
 * the last item (apply/contact lines) a shared footer; both are copied into every item.
 */
import { findCodeOccurrences, firstCodeVerbatim } from './codes.ts';
import { looksLikeAssignment } from './evidence.ts';
import { ENUMERATED_LABEL_RE, isSeparatorLine, lineSpans, lineStart, normalizeNewlines, paragraphStartFinder } from './layout.ts';

export interface CompilationItem {
  text: string;
  code: string | null;
}

export interface CompilationSplit {
  confirmed: boolean;
  items: CompilationItem[];
  reason: string;
  strategy: 'codes' | 'enumeration' | 'separators' | 'repeated_label' | null;
}

/** Posts longer than this are not split (Telegram caps a message at 4096 characters). */
export const MAX_SPLIT_CHARS = 50_000;
/** More anchors than this is not a compilation of assignments. */
const MAX_ITEMS = 60;

interface Plan {
  header: string;
  bodies: string[];
}

const BOILERPLATE_RE =
  /\b(?:apply|applying|application|contact|whatsapp|telegram|pm\s+us|dm\s+us|interested|commission|agency\s+fee|forward\s+this|click|to\s+apply)\b|https?:\/\/|t\.me\/|(?:^|\s)@\w/i;

/** Trim whitespace and separator lines at both ends of a block. */
function trimBlock(s: string): string {
  const lines = s.split('\n');
  let a = 0;
  let b = lines.length;
  while (a < b && ((lines[a] ?? '').trim() === '' || isSeparatorLine(lines[a] ?? ''))) a++;
  while (b > a && ((lines[b - 1] ?? '').trim() === '' || isSeparatorLine(lines[b - 1] ?? ''))) b--;
  return lines
    .slice(a, b)
    .join('\n')
    .replace(/^\s+|\s+$/g, '');
}

const TITLE_EXCLUDE_RE = /^[^\p{L}\p{N}]*(?:please|kindly|thank|thanks|note|nb|tags?|search|hashtags?)\b/iu;

/** A one-line paragraph without a field label that can head an item ("🟡 Reposted Assignment 🟡", "P5 Math @ Bedok"). */
function isTitleParagraph(p: string): boolean {
  const t = p.trim();
  if (t === '' || t.includes('\n') || t.length > 200) return false;
  if (/[:：]/.test(t.replace(/https?:\/\/\S+/g, ''))) return false;
  return !BOILERPLATE_RE.test(t) && !TITLE_EXCLUDE_RE.test(t) && !isSeparatorLine(t);
}

/** Start of the paragraph just before `start` when it is a title paragraph lying after `floor`; else `start`. */
function pullTitle(text: string, start: number, floor: number): number {
  const before = text.slice(floor, start).replace(/\s+$/, '');
  if (before === '') return start;
  let cut = -1;
  for (const m of before.matchAll(/\n[ \t]*\n/g)) cut = m.index ?? -1; // last blank line (linear scan)
  const para = cut < 0 ? before : before.slice(cut).replace(/^\s+/, '');
  if (cut < 0 && floor > 0) return start; // the whole previous item would move
  if (!isTitleParagraph(para)) return start;
  return floor + (cut < 0 ? 0 : cut + (before.slice(cut).length - before.slice(cut).replace(/^\s+/, '').length));
}

/**
 * Build header + bodies from item start offsets (sorted, distinct); text before the first start is the header.
 * A one-line title paragraph right before an item start belongs to that item (for the first item only when
 * the other items had titles too, or when the title itself names the assignment).
 */
function planFromStarts(text: string, rawStarts: number[]): Plan {
  const starts = [...rawStarts];
  let pulled = 0;
  for (let i = 1; i < starts.length; i++) {
    const s = starts[i] ?? 0;
    const moved = pullTitle(text, s, starts[i - 1] ?? 0);
    // a title never swallows the item before it (one-line items with no blank line between them)
    if (moved === s || moved <= (starts[i - 1] ?? 0)) continue;
    pulled++;
    starts[i] = moved;
  }
  const first = starts[0] ?? 0;
  const movedFirst = pullTitle(text, first, 0);
  if (movedFirst !== first) {
    const title = text.slice(movedFirst, first);
    if ((pulled > 0 && pulled === starts.length - 1) || looksLikeAssignment(title)) starts[0] = movedFirst;
  }
  const header = trimBlock(text.slice(0, starts[0] ?? 0));
  const bodies: string[] = [];
  starts.forEach((s, i) => {
    bodies.push(trimBlock(text.slice(s, starts[i + 1] ?? text.length)));
  });
  return { header, bodies };
}

function distinctSorted(values: number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

// ---------------------------------------------------------------- strategy 1: codes

/** Paragraphs that close an item ("Tags: …", "🔍 Search Jobs: …", "Commission: …"), never open one. */
const TAIL_PARAGRAPH_RE =
  /^[^\p{L}\p{N}]*(?:tags?|hashtags?|search\s+jobs|commission|agency\s+(?:fee|commission)|remarks?|notes?|date\s+posted|job\s+status)\b/iu;

/**
 * Footer orientation: after the code at `from`, the next item starts at the first paragraph that looks like an
 * assignment (trailing "Tags:" / "Commission:" paragraphs stay with the previous item); at most `limit`.
 */
function nextItemStart(text: string, from: number, limit: number): number {
  const re = /\n[ \t]*\n\s*/g;
  re.lastIndex = from;
  for (let m = re.exec(text); m && m.index < limit; m = re.exec(text)) {
    const start = m.index + m[0].length;
    if (start >= limit) break;
    const next = re.exec(text);
    const end = next ? Math.min(next.index, limit) : limit;
    re.lastIndex = next ? next.index : text.length;
    const para = text.slice(start, end);
    if (!TAIL_PARAGRAPH_RE.test(para) && looksLikeAssignment(para)) return start;
    if (!next) break;
  }
  return limit;
}

function planByCodes(text: string): Plan | null {
  const seen = new Set<string>();
  const firsts: { index: number; code: string }[] = [];
  for (const o of findCodeOccurrences(text).occurrences) {
    if (seen.has(o.code)) continue;
    seen.add(o.code);
    firsts.push({ index: o.index, code: o.code });
  }
  if (firsts.length < 2 || firsts.length > MAX_ITEMS) return null;
  firsts.sort((a, b) => a.index - b.index);
  const paraOf = paragraphStartFinder(text);
  const first = firsts[0];
  if (!first) return null;

  // Footer orientation: the first assignment's details (≥3 lines) come before its code ("Job ID" printed last).
  const pre = text.slice(0, lineStart(text, first.index));
  if (pre.split('\n').filter((l) => l.trim() !== '').length >= 3 && looksLikeAssignment(pre)) {
    const starts: number[] = [0];
    for (let i = 0; i + 1 < firsts.length; i++) {
      const from = firsts[i]?.index ?? 0;
      const limit = paraOf(firsts[i + 1]?.index ?? text.length);
      starts.push(nextItemStart(text, from, limit));
    }
    if (distinctSorted(starts).length !== starts.length) return null;
    return planFromStarts(text, starts);
  }

  // Header orientation: cut at each code's paragraph, or at its line when a paragraph holds several codes.
  const paras = firsts.map((f) => paraOf(f.index));
  const shared = new Map<number, number>();
  for (const p of paras) shared.set(p, (shared.get(p) ?? 0) + 1);
  const starts = firsts.map((f, i) => ((shared.get(paras[i] ?? 0) ?? 0) > 1 ? lineStart(text, f.index) : (paras[i] ?? 0)));
  return planFromStarts(text, distinctSorted(starts));
}

// ---------------------------------------------------------------- strategy 2: enumeration

const NUMBERED_LINE_RE = /^[ \t]*(?:\(\s*)?(\d{1,2})\s*[.)](?=[ \t]|$)/gm;

function sequentialStarts(matches: { n: number; index: number }[]): number[] {
  const starts: number[] = [];
  let want = 1;
  for (const m of matches) {
    if (m.n === want) {
      starts.push(m.index);
      want++;
    }
  }
  return starts;
}

function planByEnumeration(text: string): Plan | null {
  const labelled = [...text.matchAll(ENUMERATED_LABEL_RE)].map((m) => ({ n: Number(m[1]), index: lineStart(text, m.index ?? 0) }));
  let starts = sequentialStarts(labelled);
  if (starts.length < 2) {
    const numbered = [...text.matchAll(NUMBERED_LINE_RE)].map((m) => ({ n: Number(m[1]), index: lineStart(text, m.index ?? 0) }));
    starts = sequentialStarts(numbered);
  }
  if (starts.length < 2 || starts.length > MAX_ITEMS) return null;
  return planFromStarts(text, distinctSorted(starts));
}

// ---------------------------------------------------------------- strategy 3: separator lines

function planBySeparators(text: string): Plan | null {
  const chunks: string[] = [];
  let current: string[] = [];
  for (const l of lineSpans(text)) {
    if (isSeparatorLine(l.text)) {
      chunks.push(current.join('\n'));
      current = [];
    } else current.push(l.text);
  }
  chunks.push(current.join('\n'));
  const parts = chunks.map(trimBlock).filter((c) => c !== '');
  if (parts.length < 2 || parts.length > MAX_ITEMS * 2) return null;
  const isItem = parts.map((p) => looksLikeAssignment(p));
  const firstItem = isItem.indexOf(true);
  if (firstItem < 0) return null;
  const header = parts.slice(0, firstItem).join('\n\n');
  const bodies: string[] = [];
  for (let i = firstItem; i < parts.length; i++) {
    const p = parts[i] ?? '';
    if (isItem[i]) bodies.push(p);
    else bodies[bodies.length - 1] = `${bodies[bodies.length - 1] ?? ''}\n\n${p}`;
  }
  return { header, bodies };
}

// ---------------------------------------------------------------- strategy 4: repeated opening label

function openingLabel(paragraph: string): string | null {
  const firstLine = paragraph.split('\n', 1)[0] ?? '';
  const m = /^[^\p{L}\p{N}]{0,8}([\p{L}][\p{L}\s'’&/()]{1,40}?)\s*[:：]/u.exec(firstLine);
  return m?.[1] ? m[1].toLowerCase().replace(/\s+/g, ' ') : null;
}

function planByRepeatedLabel(text: string): Plan | null {
  const starts: number[] = [0];
  for (const m of text.matchAll(/\n[ \t]*\n\s*/g)) starts.push((m.index ?? 0) + m[0].length);
  const labelled = starts.filter((s) => s < text.length).map((s) => ({ s, label: openingLabel(text.slice(s, s + 200)) }));
  const counts = new Map<string, number>();
  for (const p of labelled) if (p.label) counts.set(p.label, (counts.get(p.label) ?? 0) + 1);
  let best: string | null = null;
  for (const [label, n] of counts) if (n >= 2 && (best === null || n > (counts.get(best) ?? 0))) best = label;
  if (best === null) return null;
  const cuts = labelled.filter((p) => p.label === best).map((p) => p.s);
  if (cuts.length > MAX_ITEMS) return null;
  return planFromStarts(text, cuts);
}

// ---------------------------------------------------------------- header / footer and confirmation

/** Detach trailing boilerplate paragraphs of the last body as a shared footer (only if other bodies have none). */
function detachFooter(bodies: string[]): { bodies: string[]; footer: string } {
  const last = bodies[bodies.length - 1];
  if (last === undefined || bodies.length < 2) return { bodies, footer: '' };
  if (
    bodies.slice(0, -1).some((b) =>
      b
        .split(/\n[ \t]*\n/)
        .slice(1)
        .some((p) => BOILERPLATE_RE.test(p) && !looksLikeAssignment(p)),
    )
  ) {
    return { bodies, footer: '' };
  }
  const paras = last.split(/\n[ \t]*\n/);
  let k = paras.length;
  while (k > 1) {
    const p = paras[k - 1] ?? '';
    if (!BOILERPLATE_RE.test(p) || looksLikeAssignment(p)) break;
    k--;
  }
  if (k === paras.length) return { bodies, footer: '' };
  return { bodies: [...bodies.slice(0, -1), paras.slice(0, k).join('\n\n')], footer: paras.slice(k).join('\n\n').trim() };
}

function materialise(plan: Plan): { items: CompilationItem[]; allLookLikeAssignments: boolean } {
  let header = plan.header;
  let bodies = plan.bodies.filter((b) => b !== '');
  // A header that is itself an assignment is the first item, not shared context.
  if (header !== '' && looksLikeAssignment(header)) {
    bodies = [header, ...bodies];
    header = '';
  }
  const { bodies: cleaned, footer } = detachFooter(bodies);
  const allLook = cleaned.length >= 2 && cleaned.every((b) => looksLikeAssignment(b));
  const items = cleaned.map((b) => ({ text: [header, b, footer].filter((s) => s !== '').join('\n\n'), code: firstCodeVerbatim(b) }));
  return { items, allLookLikeAssignments: allLook };
}

const STRATEGIES: readonly [CompilationSplit['strategy'], (t: string) => Plan | null][] = [
  ['codes', planByCodes],
  ['enumeration', planByEnumeration],
  ['separators', planBySeparators],
  ['repeated_label', planByRepeatedLabel],
];

export function splitCompilation(text: string | null | undefined): CompilationSplit {
  const single = (t: string, reason: string): CompilationSplit => ({
    confirmed: false,
    items: t.trim() === '' ? [] : [{ text: t.trim(), code: firstCodeVerbatim(t) }],
    reason,
    strategy: null,
  });
  try {
    if (typeof text !== 'string' || text.trim() === '') return single('', 'empty_text');
    const t = normalizeNewlines(text).trim();
    if (t.length > MAX_SPLIT_CHARS) return single(t, `too_long (${t.length} > ${MAX_SPLIT_CHARS} chars)`);
    const tried: string[] = [];
    // one job code for the whole post is one job, however its lines are numbered ("1. Math … 2. Science …")
    const oneCode = new Set(findCodeOccurrences(t).occurrences.map((o) => o.code)).size === 1;
    for (const [name, plan] of STRATEGIES) {
      if (oneCode && name !== 'codes') {
        tried.push(`${name}: skipped, one code for the whole post`);
        continue;
      }
      const p = plan(t);
      if (!p) {
        tried.push(`${name}: no anchors`);
        continue;
      }
      const { items, allLookLikeAssignments } = materialise(p);
      if (items.length >= 2 && allLookLikeAssignments) {
        return { confirmed: true, items, reason: `split by ${name} into ${items.length} items`, strategy: name };
      }
      tried.push(`${name}: ${items.length} item(s), ${allLookLikeAssignments ? 'too few' : 'not all look like assignments'}`);
    }
    return single(t, `not confirmed (${tried.join('; ')})`);
  } catch (e) {
    return single(typeof text === 'string' ? text : '', `error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Structure-only evidence for compilation detection: the name and item count of the first non-code strategy
 * (enumeration, separators, repeated label) that yields ≥2 items which all look like assignments; else null.
 */
export function structuredItems(text: string): { strategy: NonNullable<CompilationSplit['strategy']>; count: number } | null {
  try {
    const t = normalizeNewlines(text).trim();
    if (t === '' || t.length > MAX_SPLIT_CHARS) return null;
    for (const [name, plan] of STRATEGIES) {
      if (name === 'codes' || name === null) continue;
      const p = plan(t);
      if (!p) continue;
      const { items, allLookLikeAssignments } = materialise(p);
      if (items.length >= 2 && allLookLikeAssignments) return { strategy: name, count: items.length };
    }
    return null;
  } catch {
    return null;
  }
}
