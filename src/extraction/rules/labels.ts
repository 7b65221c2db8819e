import { REMARKS_LABELS } from '../hardening/vocab.ts';
/**
 * Label-driven line parsing shared by the rule modules. A post is split into bounded lines; each line is
 * cleaned of bullets/emoji/bold markers and, when it starts with a known label ("Rate:", "Level & Subject -"),
 * classified into a label kind. Inline labels after a comma ("Code: 1, Location: X") become extra segments.
 */

export type LabelKind =
  | 'code'
  | 'subject'
  | 'level'
  | 'levelSubject'
  | 'location'
  | 'rate'
  | 'schedule'
  | 'time'
  | 'start'
  | 'remarks'
  | 'mode'
  | 'mrt'
  | 'info'
  | 'other';

const VOCAB: Record<Exclude<LabelKind, 'levelSubject'>, string[]> = {
  code: [
    'code',
    'code id',
    'assignment code',
    'assignment id',
    'assignment no',
    'assignment number',
    'assignment ref',
    'job code',
    'job id',
    'job no',
    'job number',
    'job ref',
    'ref',
    'ref no',
    'reference',
    'reference no',
    'reference code',
    'id',
    'tuition code',
    'case id',
    'case no',
  ],
  subject: ['subject', 'subjects', 'course', 'module', 'tuition subject'],
  level: ['level', 'grade', 'student level', 'class'],
  location: [
    'location',
    'address',
    'addre',
    'area',
    'venue',
    'location/area',
    'place',
    'lesson venue',
    'tuition venue',
    'lesson location',
    'tuition location',
    'where',
    'student address',
  ],
  rate: [
    'rate',
    'rates',
    'hourly rate',
    'fee',
    'fees',
    'budget',
    'hourly budget',
    'salary',
    'pay',
    'price',
    'tuition fee',
    'tuition fees',
    'rate per hour',
    'hourly fee',
    'hourly pay',
    'tutor fee',
    'rate/hr',
    'per hour',
    'per hr',
    'remuneration',
    'tuition rate',
    'offer',
    'pay rate',
  ],
  schedule: [
    'frequency',
    'duration',
    'lessons per week',
    'lesson per week',
    'lesson frequency',
    'lesson duration',
    'no of lessons',
    'no of lesson',
    'no of lessons per week',
    'number of lessons',
    'lessons',
    'lesson',
    'sessions',
    'sessions per week',
    'schedule',
    'lesson schedule',
    'duration per lesson',
    'hours per lesson',
    'how often',
    'lesson details',
  ],
  time: [
    'time',
    'timing',
    'timings',
    'day',
    'days',
    'day & time',
    'days and time',
    'days & time',
    'day and time',
    'day/time',
    'available timing',
    'available timings',
    'available time',
    'availability',
    'timeslot',
    'timeslots',
    'time slot',
    'time slots',
    'tutoring days',
    'available on',
    'working hours',
    'preferred time',
    'preferred timing',
    'preferred day',
    'preferred days',
    'slots',
    'lesson time',
    'lesson timing',
  ],
  start: [
    'start',
    'start date',
    'starting',
    'starting date',
    'commencement',
    'commencement date',
    'commence',
    'commencing',
    'start from',
    'lesson start',
    'lessons start',
  ],
  remarks: [...REMARKS_LABELS],
  mode: [
    'mode',
    'learning mode',
    'lesson mode',
    'tuition mode',
    'type of lesson',
    'lesson type',
    'mode of lesson',
    'mode of lessons',
    'tuition type',
    'le on mode',
  ],
  mrt: ['mrt', 'nearest mrt', 'nearest mrt station', 'mrt station', 'nearest station', 'nearest mrt/lrt', 'nearby mrt'],
  info: ['info', 'details', 'job details', 'assignment details', 'description', 'details of job', 'details of assignment', 'job description'],
  other: [
    'gender',
    'student gender',
    'students gender',
    'preference',
    'tutor preference',
    'preferred tutor',
    'tutor category',
    'type of tutor',
    'tutor type',
    'tutor types',
    'tutor',
    'commission',
    'commission structure',
    'agency fee',
    'agency commission',
    'tags',
    'hashtags',
    'date posted',
    'posted',
    'job status',
    'status',
    'application status',
    'search jobs',
    'apply via',
    'apply',
    'group',
    'student',
    'to apply',
    'race',
    'tutor gender',
    'qualification',
    'qualifications',
    'experience',
    'school',
    'region',
    'contact',
  ],
};

const KIND_BY_LABEL = new Map<string, LabelKind>();
for (const [kind, labels] of Object.entries(VOCAB)) for (const l of labels) KIND_BY_LABEL.set(l, kind as LabelKind);

export function normLabel(label: string): string {
  return label
    .toLowerCase()
    .replace(/\(s\)/g, '')
    .replace(/['‘’`.]/g, '')
    .replace(/\s*\/\s*/g, '/')
    .replace(/\s+/g, ' ')
    .trim();
}

export function labelKind(label: string): LabelKind | null {
  const n = normLabel(label);
  const direct = KIND_BY_LABEL.get(n);
  if (direct) return direct;
  const hasLevel = /\blevel\b/.test(n);
  const hasSubject = /\bsubjects?\b/.test(n);
  if (hasLevel && hasSubject) return 'levelSubject';
  return null;
}

export const MAX_TEXT = 20_000;
export const MAX_LINE = 1_000;

export interface Line {
  /** the line as printed (bounded), bold markers removed */
  raw: string;
  /** without leading bullets/emoji and surrounding whitespace */
  clean: string;
  /** bullets/emoji the line started with ('' when none) */
  bullet: string;
}

export interface Labelled {
  lineIndex: number;
  label: string;
  kind: LabelKind;
  value: string;
}

const LEADING_JUNK = /^[^\p{L}\p{N}([$#+"'“‘]+/u;
/** "7) Mode: …", "(3) Rate …", "b) Level …": a list number before a field is part of the bullet; so is the Chinese
 * half of a bilingual label ("地点 Location: …"). */
const ENUMERATOR = /^(?:\(?\d{1,2}[).]|\(?[a-h]\))\s+(?=\p{L})|^[\p{Script=Han}]{1,8}\s+(?=[A-Za-z])/iu;

export function toLines(text: string): Line[] {
  const bounded = String(text ?? '')
    .slice(0, MAX_TEXT)
    .replace(/\r\n?/g, '\n')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: invisible and control characters are what it strips
    .replace(/[\u200b-\u200f\u202a-\u202e\u2060\ufeff\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/\*\*|__/g, '');
  return bounded.split('\n').map((l) => {
    const raw = l.slice(0, MAX_LINE);
    const m = LEADING_JUNK.exec(raw);
    const junk = m ? m[0] : '';
    const bullet = junk + (ENUMERATOR.exec(raw.slice(junk.length))?.[0] ?? '');
    return { raw, clean: raw.slice(bullet.length).trim(), bullet: bullet.trim() };
  });
}

const LABEL_RE = /^([\p{L}][\p{L}\p{N} &/'‘’().]{0,40}?)\s*(?:[:：]|\s[-–]\s)\s*(.*)$/u;

/** Parse "Label: value" at the start of a cleaned segment; only known labels count. */
export function parseLabel(segment: string): { label: string; kind: LabelKind; value: string } | null {
  const m = LABEL_RE.exec(segment);
  if (!m) return null;
  const label = m[1] ?? '';
  const kind = labelKind(label);
  if (!kind) return null;
  return { label: label.trim(), kind, value: (m[2] ?? '').trim() };
}

/** Split "Assignment code: 1673, Location: 762673 (Yishun)" at commas/pipes that precede a known label. */
function inlineSegments(clean: string): string[] {
  const parts = clean.split(/\s*[,;|]\s+(?=[\p{L}][\p{L} &/]{1,30}\s*[:：])/u);
  if (parts.length === 1) return parts;
  const out: string[] = [];
  for (const p of parts) {
    if (out.length === 0 || parseLabel(p)) out.push(p);
    else out[out.length - 1] += `, ${p}`;
  }
  return out;
}

export function labelledLines(lines: Line[]): Labelled[] {
  const out: Labelled[] = [];
  lines.forEach((line, i) => {
    if (!line.clean) return;
    for (const seg of inlineSegments(line.clean)) {
      const p = parseLabel(seg);
      if (p) out.push({ lineIndex: i, ...p });
    }
  });
  return out;
}

export interface Parsed {
  lines: Line[];
  labels: Labelled[];
}

export function parsePost(text: string): Parsed {
  const lines = toLines(text);
  return { lines, labels: labelledLines(lines) };
}

export function firstLabel(p: Parsed, ...kinds: LabelKind[]): Labelled | undefined {
  for (const k of kinds) {
    const hit = p.labels.find((l) => l.kind === k && l.value !== '');
    if (hit) return hit;
  }
  return undefined;
}

export function isLabelLine(line: Line): boolean {
  return line.clean !== '' && parseLabel(line.clean) !== null;
}

/** Collapse whitespace and trim separator punctuation at both ends. */
export function tidy(s: string): string {
  return s
    .replace(/\s+/g, ' ')
    .replace(/^[\s,;:\-–—|.]+/, '')
    .replace(/[\s,;:\-–—|]+$/, '')
    .trim();
}

/** Remove markdown links "([x](y))", "[x](y)" and bare URLs. */
export function stripLinks(s: string): string {
  return s
    .replace(/\(\s*\[[^\]\n]{0,500}\]\([^)\n]{0,500}\)\s*\)/g, ' ')
    .replace(/\[[^\]\n]{0,500}\]\([^)\n]{0,500}\)/g, ' ')
    .replace(/\b(?:https?:\/\/|www\.)\S+/gi, ' ');
}
