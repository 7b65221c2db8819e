/**
 * The four deterministic fills: postal code, learning mode, lesson schedule, address. Each is pure:
 * `(parsed, rawText) → {parsed, meta}`, fills only an empty field, never throws, and reads the raw text line by line.
 */
import { coerceList } from './coerce.ts';
import { canonicalPostalCode, findPostalCodes } from './postal.ts';
import { collapseSpaces, ICONS, isRecord, lines } from './text.ts';
import { ADDRESS_LABEL, F2F_RE, F2F_TERM, LESSON_WORD, MODE_LABEL, ONLINE_RE, ONLINE_TERM, SCHEDULE_LABEL, SEP } from './vocab.ts';

export { coerceList } from './coerce.ts';

export type Parsed = Record<string, unknown>;
export interface FillMeta {
  ok: boolean;
  changed: boolean;
  source?: string;
  count?: number;
  inferred?: string | null;
  postal_code_count?: number;
  error?: string;
}
export interface FillResult<T extends Parsed = Parsed> {
  parsed: T;
  meta: FillMeta;
}

const ENUM_MODES = ['Online', 'Face-to-Face', 'Hybrid'] as const;

function asText(raw: unknown): string {
  return typeof raw === 'string' ? raw : '';
}

function sameList(a: unknown, b: string[] | null): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b);
}

// ---------- postal code ----------

/**
 * Keeps given codes (normalised to 6 digits; "S 111" and other non-codes dropped), else takes the codes printed in
 * the text, with the false-positive guards of postal.ts. None → null.
 */
export function fillPostalCode<T extends Parsed>(parsed: T, rawText: string): FillResult<T> {
  const given = coerceList(parsed.postal_code);
  const cleaned = given ? coerceList(given.map(canonicalPostalCode)) : null;
  const codes = cleaned ?? coerceList(findPostalCodes(asText(rawText)));
  const changed = !sameList(parsed.postal_code, codes);
  return { parsed: { ...parsed, postal_code: codes }, meta: { ok: true, changed, postal_code_count: codes?.length ?? 0 } };
}

// ---------- learning mode ----------

const ONLINE_LINE_PATTERNS: RegExp[] = [
  new RegExp(String.raw`^${ICONS}(?:tuition\s+)?(?:${MODE_LABEL}|address|addre)${SEP}.*\b${ONLINE_TERM}\b`, 'iu'),
  new RegExp(String.raw`^${ICONS}${ONLINE_TERM}[^\p{L}\p{N}_]*$`, 'iu'),
  new RegExp(String.raw`^${ICONS}${ONLINE_TERM}\s+${LESSON_WORD}\b`, 'iu'),
  new RegExp(String.raw`^[^\p{L}\p{N}_\s].*\b${ONLINE_TERM}\s+(?:group\s+)?${LESSON_WORD}\b`, 'iu'),
  new RegExp(String.raw`\b${ONLINE_TERM}\s+${LESSON_WORD}\s+(?:only|permanently)\b`, 'i'),
  new RegExp(String.raw`(?:\bvia|@)\s*${ONLINE_TERM}\s+${LESSON_WORD}\b`, 'i'),
  new RegExp(String.raw`\b${ONLINE_TERM}\s+(?:group\s+)?tuition\b`, 'i'),
  new RegExp(String.raw`\b(?:assignment|a\s?ignment)\s+${ONLINE_TERM}\b`, 'i'),
];
const F2F_LABEL_LINE = new RegExp(String.raw`^${ICONS}(?:tuition\s+)?${MODE_LABEL}${SEP}\s*${F2F_TERM}\b`, 'iu');
const LESSON_RE = new RegExp(String.raw`\b${LESSON_WORD}\b`, 'i');

function isOnlineLine(line: string): boolean {
  return ONLINE_LINE_PATTERNS.some((re) => re.test(line));
}

/** The F2F keyword must come before a lesson word on the same line ("home lessons" yes, "lessons at home" no). */
function isF2fLine(line: string): boolean {
  if (F2F_LABEL_LINE.test(line)) return true;
  const m = F2F_RE.exec(line);
  return m !== null && LESSON_RE.test(line.slice(m.index + m[0].length));
}

function hasEnumMode(value: unknown): boolean {
  const mode = isRecord(value) ? value.mode : value;
  return typeof mode === 'string' && (ENUM_MODES as readonly string[]).includes(mode.trim());
}

function existingRawText(value: unknown): string | null {
  const raw = isRecord(value) ? value.raw_text : null;
  return typeof raw === 'string' && raw.trim() !== '' ? raw : null;
}

/**
 * Infers Online / Face-to-Face / Hybrid from explicit lines. raw_text is never overwritten with the enum label: we
 * keep the model's verbatim snippet, or store the first line that proved the mode.
 */
export function fillLearningMode<T extends Parsed>(parsed: T, rawText: string): FillResult<T> {
  if (hasEnumMode(parsed.learning_mode)) return { parsed, meta: { ok: true, changed: false, inferred: null } };
  let onlineLine: string | null = null;
  let f2fLine: string | null = null;
  for (const line of lines(asText(rawText))) {
    if (onlineLine === null && isOnlineLine(line)) onlineLine = line;
    if (f2fLine === null && isF2fLine(line)) f2fLine = line;
    if (onlineLine !== null && f2fLine !== null) break;
  }
  const mode = onlineLine && f2fLine ? 'Hybrid' : onlineLine ? 'Online' : f2fLine ? 'Face-to-Face' : null;
  if (mode === null) return { parsed, meta: { ok: true, changed: false, inferred: null } };
  const evidence = (onlineLine ?? f2fLine ?? '').trim();
  const raw_text = existingRawText(parsed.learning_mode) ?? evidence;
  return { parsed: { ...parsed, learning_mode: { mode, raw_text } }, meta: { ok: true, changed: true, inferred: mode } };
}

// ---------- lesson schedule ----------

const SCHEDULE_LABEL_LINE = new RegExp(String.raw`^${ICONS}${SCHEDULE_LABEL}${SEP}(.*)$`, 'iu');
const COMPACT_LINE =
  /^(?:[^;\n]{0,200};\s*)?\d{1,2}(?:\.\d{1,2})?(?:\s*-\s*\d{1,2}(?:\.\d{1,2})?)?\s*(?:hrs?|hours?),?\s*\d{1,2}(?:\s*-\s*\d{1,2})?\s*(?:x|times?)\s*(?:a\s+)?week[^;\n]*/i;
const ICON_LINE = /^[^\p{L}\p{N}_\s]+\s*((?:once|twice|\d{1,2}(?:\s*-\s*\d{1,2})?)\s*(?:lessons?|x|times?)\s*(?:\/|per|a)?\s*week[^;\n]*)/iu;

function scheduleFromLine(line: string): string | null {
  const labelled = SCHEDULE_LABEL_LINE.exec(line);
  if (labelled) return collapseSpaces(labelled[1] ?? '') || null;
  const compact = COMPACT_LINE.exec(line);
  if (compact) return collapseSpaces(compact[0]);
  const icon = ICON_LINE.exec(line);
  if (icon) return collapseSpaces(icon[1] ?? '') || null;
  if (line.includes(' @ ') && line.includes(' on ')) return collapseSpaces(line.slice(line.lastIndexOf(' on ') + 4)) || null;
  return null;
}

/** Frequency/duration/schedule lines; the label table is shared with the other fills (vocab.ts). */
export function fillLessonSchedule<T extends Parsed>(parsed: T, rawText: string): FillResult<T> {
  const existing = coerceList(parsed.lesson_schedule);
  if (existing) return { parsed: { ...parsed, lesson_schedule: existing }, meta: { ok: true, changed: !sameList(parsed.lesson_schedule, existing) } };
  const found = coerceList(lines(asText(rawText)).map(scheduleFromLine));
  if (!found) return { parsed, meta: { ok: true, changed: false } };
  return {
    parsed: { ...parsed, lesson_schedule: found },
    meta: { ok: true, changed: true, source: 'explicit_frequency_line', count: found.length },
  };
}

// ---------- address ----------

const ADDRESS_LABEL_LINE = new RegExp(String.raw`^${ICONS}(?:tuition\s+)?${ADDRESS_LABEL}${SEP}(.*)$`, 'iu');
const COMPACT_HEADER = /^\s*\d{3,6}[A-Za-z]{1,3}\s*:/;
const ONLINE_PAREN = new RegExp(String.raw`\([^()]{0,80}\b${ONLINE_TERM}\b[^()]{0,80}\)`, 'gi');

/**
 * Online wording is removed by dropping whole parts ("X OR Online lessons", "X / Zoom") and whole parentheticals
 * ("(online possible)"), never by cutting words out of the middle (which would leave "Bukit Timah (possible)").
 */
function physicalParts(value: string): string[] {
  if (!ONLINE_RE.test(value)) return [value];
  const withoutParens = value.replace(ONLINE_PAREN, ' ');
  return withoutParens
    .split(/\bor\b|\//i)
    .map((part) => part.replace(/^[\s,\-/]+|[\s,\-/]+$/g, ''))
    .filter((part) => part !== '' && !ONLINE_RE.test(part));
}

function addressFromCompactHeader(line: string): string | null {
  if (!COMPACT_HEADER.test(line) || !line.includes('@')) return null;
  let location = line.slice(line.lastIndexOf('@') + 1);
  for (const stop of [' on ', ' [', ';']) {
    const at = location.indexOf(stop);
    if (at >= 0) location = location.slice(0, at);
  }
  location = collapseSpaces(location);
  return location !== '' && !ONLINE_RE.test(location) ? location : null;
}

function addressesFromLine(line: string): string[] {
  const labelled = ADDRESS_LABEL_LINE.exec(line);
  if (labelled) return physicalParts(collapseSpaces(labelled[1] ?? ''));
  const compact = addressFromCompactHeader(line);
  return compact ? [compact] : [];
}

/** "Address:/Venue:/Location:" lines (also "Tuition venue:") and "0706si: … @ <place>" headers. */
export function fillAddress<T extends Parsed>(parsed: T, rawText: string): FillResult<T> {
  const existing = coerceList(parsed.address);
  if (existing) return { parsed: { ...parsed, address: existing }, meta: { ok: true, changed: !sameList(parsed.address, existing) } };
  const found = coerceList(lines(asText(rawText)).flatMap(addressesFromLine));
  if (!found) return { parsed, meta: { ok: true, changed: false } };
  return { parsed: { ...parsed, address: found }, meta: { ok: true, changed: true, source: 'explicit_address_line', count: found.length } };
}

// ---------- all four, in the worker's order ----------

type Fill = <T extends Parsed>(parsed: T, rawText: string) => FillResult<T>;
const FILLS: [string, Fill][] = [
  ['postal_code_fill', fillPostalCode],
  ['learning_mode_fill', fillLearningMode],
  ['lesson_schedule_fill', fillLessonSchedule],
  ['address_fill', fillAddress],
];

/** Runs the four fills in order; a failing fill only records `{ok:false, error}` and leaves parsed as it was. */
export function applyFills<T extends Parsed>(parsed: T, rawText: string): { parsed: T; meta: Record<string, FillMeta> } {
  const meta: Record<string, FillMeta> = {};
  let current = parsed;
  for (const [name, fill] of FILLS) {
    try {
      const result = fill(current, rawText);
      current = result.parsed;
      meta[name] = result.meta;
    } catch (err) {
      meta[name] = { ok: false, changed: false, error: err instanceof Error ? err.message : String(err) };
    }
  }
  return { parsed: current, meta };
}
