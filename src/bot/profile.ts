import { getTaxonomy } from '../extraction/index.ts';
import type { Queryable } from '../db/index.ts';
import { MAX_DISTANCE_KM, MIN_DISTANCE_KM, PostalCodeSchema, getTutorByChatId, removeTutor, type Tutor } from '../tutors/index.ts';

/** One choice of a picker keyboard: the stored value and its button label. */
export interface PickOption {
  value: string;
  label: string;
}

export type PickerKind = 's' | 'l' | 't';
export const PAGE_SIZE = 8;

const titleCase = (s: string) => s.toLowerCase().replace(/(^|[\s_/-])([a-z])/g, (_m, sep: string, c: string) => `${sep === '_' ? ' ' : sep}${c.toUpperCase()}`);

let subjectCache: PickOption[] | null = null;
/** Subject categories first ("Math (any)"), then every taxonomy code, in taxonomy order. */
export function subjectOptions(): PickOption[] {
  if (subjectCache) return subjectCache;
  const tax = getTaxonomy();
  const categories = [...new Set(tax.categoryByCode.values())];
  const codes = [...tax.categoryByCode.keys()].filter((c) => !categories.includes(c));
  subjectCache = [
    ...categories.map((c) => ({ value: c, label: `${titleCase(c)} (any)` })),
    ...codes.map((c) => ({ value: c, label: tax.labelByCode.get(c) ?? c })),
  ];
  return subjectCache;
}

let levelCache: PickOption[] | null = null;
/** General levels of the taxonomy, then the specific school years. */
export function levelOptions(): PickOption[] {
  if (levelCache) return levelCache;
  const specific = [
    ...Array.from({ length: 6 }, (_, i) => `Primary ${i + 1}`),
    ...Array.from({ length: 5 }, (_, i) => `Secondary ${i + 1}`),
    ...Array.from({ length: 2 }, (_, i) => `Junior College ${i + 1}`),
  ];
  levelCache = [...getTaxonomy().levels, ...specific].map((l) => ({ value: l, label: l }));
  return levelCache;
}

/** Tutor types as the extraction stores them on assignments. */
export const TYPE_OPTIONS: PickOption[] = [
  { value: 'part-timer', label: 'Part-time' },
  { value: 'full-timer', label: 'Full-time' },
  { value: 'moe-exmoe', label: 'Ex/current MOE' },
  { value: 'student', label: 'Student (uni/poly/JC)' },
];

export function pickerOptions(kind: PickerKind): PickOption[] {
  return kind === 's' ? subjectOptions() : kind === 'l' ? levelOptions() : TYPE_OPTIONS;
}

export const PICKER_NAMES: Record<PickerKind, { draft: 'subjects' | 'levels' | 'types'; noun: string }> = {
  s: { draft: 'subjects', noun: 'subjects' },
  l: { draft: 'levels', noun: 'levels' },
  t: { draft: 'types', noun: 'tutor types' },
};

type Button = { text: string; callback_data: string };

/** The picker keyboard: options of one page (two a row, ✅ when selected), paging, Clear and Done. */
export function pickerKeyboard(kind: PickerKind, selected: readonly string[], page: number): { inline_keyboard: Button[][] } {
  const options = pickerOptions(kind);
  const pages = Math.max(1, Math.ceil(options.length / PAGE_SIZE));
  const p = Math.min(Math.max(0, page), pages - 1);
  const chosen = new Set(selected);
  const rows: Button[][] = [];
  const slice = options.slice(p * PAGE_SIZE, (p + 1) * PAGE_SIZE);
  for (let i = 0; i < slice.length; i += 2) {
    rows.push(
      slice.slice(i, i + 2).map((o, j) => ({ text: `${chosen.has(o.value) ? '✅ ' : ''}${o.label}`, callback_data: `pk:${kind}:t:${p * PAGE_SIZE + i + j}` })),
    );
  }
  if (pages > 1) {
    rows.push([
      { text: '‹ Prev', callback_data: `pk:${kind}:p:${(p - 1 + pages) % pages}` },
      { text: `${p + 1}/${pages}`, callback_data: 'noop' },
      { text: 'Next ›', callback_data: `pk:${kind}:p:${(p + 1) % pages}` },
    ]);
  }
  rows.push([
    { text: 'Clear', callback_data: `pk:${kind}:c` },
    { text: 'Done', callback_data: `pk:${kind}:d` },
  ]);
  return { inline_keyboard: rows };
}

export function pickerText(kind: PickerKind, selected: readonly string[]): string {
  const noun = PICKER_NAMES[kind].noun;
  const options = pickerOptions(kind);
  const labels = selected.map((v) => options.find((o) => o.value === v)?.label ?? v);
  return `Choose your ${noun}: tap to select or unselect (several allowed), then Done.\nSelected: ${labels.length === 0 ? 'none' : shortList(labels, 600)}`;
}

export const MODE_KEYBOARD = {
  inline_keyboard: [
    [
      { text: 'Online', callback_data: 'md:online' },
      { text: 'Face-to-face', callback_data: 'md:f2f' },
      { text: 'Both', callback_data: 'md:both' },
    ],
  ],
};

export const MODE_VALUES: Record<string, string[]> = { online: ['online'], f2f: ['face-to-face'], both: ['online', 'face-to-face'] };

export function modeText(modes: string[]): string {
  const m = new Set(modes);
  if (m.size === 0 || m.has('hybrid') || (m.has('online') && m.has('face-to-face'))) return 'online and face-to-face';
  return m.has('online') ? 'online only' : 'face-to-face only';
}

/** A list for a message: joined, cut short (with the total) so a profile always fits one Telegram message. */
export function shortList(values: readonly string[], max = 900): string {
  const text = values.join(', ');
  if (text.length <= max) return text;
  return `${text.slice(0, max).replace(/,[^,]*$/, '')}, … (${values.length} in all)`;
}

const money = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/** The profile as the bot shows it (plain text). */
/** A stored subject code as a tutor reads it: its taxonomy label, or the category name ("Math (any)"). */
export function subjectLabel(code: string): string {
  return subjectOptions().find((o) => o.value === code)?.label ?? code;
}

export function formatProfile(t: Tutor): string {
  const typeLabel = (v: string) => TYPE_OPTIONS.find((o) => o.value === v)?.label ?? v;
  const area =
    t.postalCode !== null
      ? `postal code ${t.postalCode}`
      : t.regions.length > 0
        ? `region ${t.regions.map(titleCase).join(', ')}`
        : 'anywhere (no postal code or region set)';
  return [
    `Your TutorDex profile (${t.active ? 'active: DMs on' : `paused${t.inactiveReason === 'blocked_bot' ? ' (the bot was blocked)' : ''}: no DMs`})`,
    `Subjects: ${t.subjects.length ? shortList(t.subjects.map(subjectLabel)) : 'none yet (/subjects)'}`,
    `Levels: ${t.levels.length ? shortList(t.levels) : 'none yet (/levels)'}`,
    `Area: ${area}`,
    `Distance: ${t.postalCode === null ? `${money(t.maxDistanceKm ?? 5)} km (applies once a postal code is set)` : `within ${money(t.maxDistanceKm ?? 5)} km of it`}`,
    `Minimum rate: ${t.minRate === null ? 'any' : `$${money(t.minRate)}/h`}`,
    `Mode: ${modeText(t.learningModes)}`,
    `Tutor type: ${t.tutorTypes.length ? t.tutorTypes.map(typeLabel).join(', ') : 'any'}`,
    `DMs per day: at most ${t.dmDailyLimit}`,
  ].join('\n');
}

export const HELP_TEXT = [
  'TutorDex sends you tuition assignments that fit your preferences.',
  '',
  '/start – create or re-activate your profile',
  '/profile – show your preferences',
  '/subjects – pick subjects (or /subjects E Maths, Physics)',
  '/levels – pick levels (or /levels Sec 3, JC1)',
  '/area – postal code or region (/area 520123, /area East, /area any)',
  '/distance – radius in km around your postal code (/distance 5)',
  '/rate – minimum hourly rate (/rate 40, /rate any)',
  '/mode – online, face-to-face or both',
  '/types – tutor type (part-time, full-time, ex/current MOE)',
  '/limit – most DMs per day (/limit 10)',
  '/preview – how many open assignments match now, and the newest three',
  '/pause, /resume – stop or restart DMs',
  '/stop – delete your profile and data',
  '/help – this list',
].join('\n');

// ---------------------------------------------------------------------------------------------------------------
// Parsing one field's input: a value to store, or the reason it was refused.

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const REGIONS: Record<string, string> = {
  west: 'west',
  north: 'north',
  northeast: 'north-east',
  ne: 'north-east',
  east: 'east',
  central: 'central',
  centre: 'central',
  center: 'central',
};

export interface AreaValue {
  postal: { code: string | null; lat: number | null; lon: number | null };
  regions: string[];
}

/** A six-digit postal code, one or more regions, or "any" (clears both). */
export function parseArea(input: string): Parsed<AreaValue> {
  const s = input.trim();
  if (/^(any|anywhere|none|clear|all)$/i.test(s)) return { ok: true, value: { postal: { code: null, lat: null, lon: null }, regions: [] } };
  if (/^\d[\d\s]*$/.test(s)) {
    const r = PostalCodeSchema.safeParse(s.replace(/\s+/g, ''));
    if (!r.success || !r.data) return { ok: false, reason: `"${s.slice(0, 20)}" is not a Singapore postal code I know (six digits, e.g. 520123)` };
    return { ok: true, value: { postal: r.data, regions: [] } };
  }
  const regions: string[] = [];
  for (const part of s.split(/[,;/]|\band\b/i)) {
    const key = part
      .trim()
      .toLowerCase()
      .replace(/[\s_-]+/g, '');
    if (!key) continue;
    const region = REGIONS[key];
    if (!region)
      return { ok: false, reason: `"${part.trim().slice(0, 30)}" is neither a six-digit postal code nor a region (North, North-East, East, West, Central)` };
    if (!regions.includes(region)) regions.push(region);
  }
  if (regions.length === 0) return { ok: false, reason: 'send a six-digit postal code or a region (North, North-East, East, West, Central)' };
  return { ok: true, value: { postal: { code: null, lat: null, lon: null }, regions } };
}

const NUMBER = /^\$?\s*(\d{1,6}(?:\.\d{1,2})?)\s*(?:km|\/h|\/hr|per hour)?$/i;

export function parseDistance(input: string): Parsed<number> {
  const m = NUMBER.exec(input.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(n) || n < MIN_DISTANCE_KM || n > MAX_DISTANCE_KM) {
    return { ok: false, reason: `the distance must be a number of km from ${MIN_DISTANCE_KM} to ${MAX_DISTANCE_KM}, got "${input.trim().slice(0, 20)}"` };
  }
  return { ok: true, value: n };
}

export function parseRate(input: string): Parsed<number | null> {
  const s = input.trim();
  if (/^(any|none|clear|0)$/i.test(s)) return { ok: true, value: null };
  const m = NUMBER.exec(s);
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 1000)
    return { ok: false, reason: `the minimum rate must be a number of dollars per hour from 0 to 1000 (or "any"), got "${s.slice(0, 20)}"` };
  return { ok: true, value: n };
}

export function parseLimit(input: string): Parsed<number> {
  const s = input.trim();
  const n = /^\d{1,4}$/.test(s) ? Number(s) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 100) return { ok: false, reason: `the daily limit must be a whole number from 1 to 100, got "${s.slice(0, 20)}"` };
  return { ok: true, value: n };
}

// ---------------------------------------------------------------------------------------------------------------
// Storage

/** Create the tutor for a chat, or re-activate it; subjects and levels start empty (nothing matches until set). */
export async function startTutor(db: Queryable, chatId: number, displayName: string | null): Promise<{ tutor: Tutor; created: boolean }> {
  const rows = await db.query<{ inserted: boolean }>(
    `insert into tutors (chat_id, display_name, max_distance_km) values ($1, $2, 5)
     on conflict (chat_id) do update set active = true, inactive_reason = null, updated_at = now(),
       display_name = coalesce(tutors.display_name, excluded.display_name)
     returning (xmax = 0) as inserted`,
    [chatId, displayName],
  );
  const tutor = await getTutorByChatId(db, chatId);
  return { tutor: tutor!, created: rows[0]?.inserted === true };
}

const COLUMNS = {
  subjects: 'text[]',
  levels: 'text[]',
  regions: 'text[]',
  postal_code: 'text',
  postal_lat: 'float8',
  postal_lon: 'float8',
  max_distance_km: 'numeric',
  min_rate: 'numeric',
  learning_modes: 'text[]',
  tutor_types: 'text[]',
  dm_daily_limit: 'integer',
  active: 'boolean',
  inactive_reason: 'text',
} as const;

export type TutorPatch = Partial<Record<keyof typeof COLUMNS, unknown>>;

/** Update some columns of the chat's tutor; null when the chat has no tutor. */
export async function patchTutor(db: Queryable, chatId: number, patch: TutorPatch): Promise<Tutor | null> {
  const entries = Object.entries(patch).filter(([k]) => k in COLUMNS) as Array<[keyof typeof COLUMNS, unknown]>;
  if (entries.length > 0) {
    const sets = entries.map(([k], i) => `${k} = $${i + 2}::${COLUMNS[k]}`);
    await db.query(`update tutors set ${sets.join(', ')}, updated_at = now() where chat_id = $1`, [chatId, ...entries.map(([, v]) => v)]);
  }
  return getTutorByChatId(db, chatId);
}

/** /stop: the tutor row (its feedback cascades), the chat state, and DMs still waiting to be sent. */
export async function deleteTutorData(db: Queryable, chatId: number): Promise<boolean> {
  const { removed } = await removeTutor(db, chatId, { type: 'tutor_stopped', message: 'the tutor deleted their profile (/stop)' });
  await db.query('delete from bot_chat_state where chat_id = $1', [chatId]);
  return removed;
}
