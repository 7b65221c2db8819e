import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type { Database, Queryable } from '../db/index.ts';
import { cancelPendingDms } from '../delivery/index.ts';
import { UserError } from '../errors.ts';
import { DEFAULT_DISTANCE_KM, TutorInputSchema, type ParsedTutorInput } from './schema.ts';

export interface Tutor {
  id: number;
  /** Telegram chat id, as text (what the delivery outbox stores as the recipient). */
  chatId: string;
  displayName: string | null;
  subjects: string[];
  levels: string[];
  regions: string[];
  postalCode: string | null;
  lat: number | null;
  lon: number | null;
  maxDistanceKm: number | null;
  minRate: number | null;
  learningModes: string[];
  tutorTypes: string[];
  dmDailyLimit: number;
  active: boolean;
  inactiveReason: string | null;
  lastDmAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface TutorRow {
  id: number;
  chat_id: number;
  display_name: string | null;
  subjects: string[];
  levels: string[];
  regions: string[];
  postal_code: string | null;
  postal_lat: number | null;
  postal_lon: number | null;
  max_distance_km: number | null;
  min_rate: number | null;
  learning_modes: string[];
  tutor_types: string[];
  dm_daily_limit: number;
  active: boolean;
  inactive_reason: string | null;
  last_dm_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const SELECT = `id, chat_id, display_name, subjects, levels, regions, postal_code, postal_lat, postal_lon,
  max_distance_km::float8 as max_distance_km, min_rate::float8 as min_rate, learning_modes, tutor_types, dm_daily_limit,
  active, inactive_reason, last_dm_at, created_at, updated_at`;

const date = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

function toTutor(r: TutorRow): Tutor {
  return {
    id: r.id,
    chatId: String(r.chat_id),
    displayName: r.display_name,
    subjects: r.subjects,
    levels: r.levels,
    regions: r.regions,
    postalCode: r.postal_code,
    lat: r.postal_lat,
    lon: r.postal_lon,
    maxDistanceKm: r.max_distance_km,
    minRate: r.min_rate,
    learningModes: r.learning_modes,
    tutorTypes: r.tutor_types,
    dmDailyLimit: r.dm_daily_limit,
    active: r.active,
    inactiveReason: r.inactive_reason,
    lastDmAt: r.last_dm_at === null ? null : date(r.last_dm_at),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

function describeIssues(error: z.ZodError, prefix: string): string {
  const issue = error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : 'row';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})` : '';
  return `${prefix}${field}: ${issue.message}${more}`;
}

/** Validate one input (zod); a problem becomes a UserError naming the field, with an optional "line N: " prefix. */
export function parseTutorInput(input: unknown, where = ''): ParsedTutorInput {
  const parsed = TutorInputSchema.safeParse(input);
  if (!parsed.success) throw new UserError(describeIssues(parsed.error, where));
  return parsed.data;
}

async function writeTutor(db: Queryable, t: ParsedTutorInput): Promise<{ tutor: Tutor; inserted: boolean }> {
  const cols: Array<[string, unknown, string]> = [
    ['chat_id', t.chatId, 'bigint'],
    ['subjects', t.subjects, 'text[]'],
    ['levels', t.levels, 'text[]'],
  ];
  if (t.displayName !== undefined) cols.push(['display_name', t.displayName, 'text']);
  if (t.regions !== undefined) cols.push(['regions', t.regions, 'text[]']);
  if (t.postalCode !== undefined) {
    cols.push(['postal_code', t.postalCode.code, 'text'], ['postal_lat', t.postalCode.lat, 'float8'], ['postal_lon', t.postalCode.lon, 'float8']);
  }
  if (t.maxDistanceKm !== undefined) cols.push(['max_distance_km', t.maxDistanceKm, 'numeric']);
  if (t.minRate !== undefined) cols.push(['min_rate', t.minRate, 'numeric']);
  if (t.learningModes !== undefined) cols.push(['learning_modes', t.learningModes, 'text[]']);
  if (t.tutorTypes !== undefined) cols.push(['tutor_types', t.tutorTypes, 'text[]']);
  if (t.dmDailyLimit !== undefined) cols.push(['dm_daily_limit', t.dmDailyLimit, 'integer']);
  if (t.active !== undefined) {
    cols.push(['active', t.active, 'boolean']);
    // re-activating clears why the tutor was deactivated (e.g. a blocked bot); deactivating by hand says so
    cols.push(['inactive_reason', t.active ? null : 'manual', 'text']);
  }
  const insertCols = [...cols];
  if (t.maxDistanceKm === undefined) insertCols.push(['max_distance_km', DEFAULT_DISTANCE_KM, 'numeric']);
  const names = insertCols.map(([c]) => c);
  const values = insertCols.map(([, , type], i) => `$${i + 1}::${type}`);
  const updates = cols.filter(([c]) => c !== 'chat_id').map(([c]) => `${c} = excluded.${c}`);
  const [row] = await db.query<TutorRow & { inserted: boolean }>(
    `insert into tutors (${names.join(', ')}) values (${values.join(', ')})
     on conflict (chat_id) do update set ${[...updates, 'updated_at = now()'].join(', ')}
     returning ${SELECT}, (xmax = 0) as inserted`,
    insertCols.map(([, v]) => v),
  );
  return { tutor: toTutor(row!), inserted: row!.inserted };
}

/**
 * Create or update the tutor with this chat id. Fields left out keep their stored value; subjects and levels are
 * required and resolved against the taxonomy; the postal code is geocoded (an invalid one is a UserError).
 */
export async function upsertTutor(db: Queryable, input: unknown): Promise<Tutor> {
  return (await writeTutor(db, parseTutorInput(input))).tutor;
}

export async function listTutors(db: Queryable, options: { activeOnly?: boolean } = {}): Promise<Tutor[]> {
  const rows = await db.query<TutorRow>(`select ${SELECT} from tutors ${options.activeOnly ? 'where active' : ''} order by id`);
  return rows.map(toTutor);
}

export async function countTutors(db: Queryable): Promise<number> {
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from tutors');
  return row!.n;
}

export async function getTutorByChatId(db: Queryable, chatId: number | string): Promise<Tutor | null> {
  const id = parseChatId(chatId);
  const [row] = await db.query<TutorRow>(`select ${SELECT} from tutors where chat_id = $1`, [id]);
  return row ? toTutor(row) : null;
}

function parseChatId(chatId: number | string): number {
  const text = String(chatId).trim();
  const n = Number(text);
  if (!/^-?\d{1,16}$/.test(text) || !Number.isSafeInteger(n)) throw new UserError(`"${text}" is not a Telegram chat id (an integer)`);
  return n;
}

/** Why a tutor's pending DMs were cancelled when the tutor was removed. */
export const TUTOR_REMOVED = { type: 'tutor_removed', message: 'the tutor was removed (tutordex tutors remove)' };

/**
 * Delete the tutor and cancel the DMs still waiting for them (`reason`: /stop passes its own); false when no tutor
 * has this chat id. Past deliveries keep their rows (tutor_id set null); the dispatcher never sends a DM whose tutor
 * is gone, so a DM queued in the moment of removal is skipped too.
 */
export async function removeTutor(
  db: Queryable,
  chatId: number | string,
  reason: { type: string; message: string } = TUTOR_REMOVED,
): Promise<{ removed: boolean; cancelledDms: number }> {
  const id = parseChatId(chatId);
  const [tutor] = await db.query<{ id: number }>('select id from tutors where chat_id = $1', [id]);
  const cancelledDms = await cancelPendingDms(db, { tutorId: tutor ? Number(tutor.id) : null, chatId: id }, reason);
  const rows = await db.query('delete from tutors where chat_id = $1 returning id', [id]);
  return { removed: rows.length > 0, cancelledDms };
}

// ---------------------------------------------------------------------------------------------------------------
// Import

/** Column names accepted in CSV headers and JSON keys (compared lower-case without punctuation). */
const FIELD_ALIASES: Record<string, keyof ParsedTutorInput> = {
  chatid: 'chatId',
  telegramchatid: 'chatId',
  name: 'displayName',
  displayname: 'displayName',
  subjects: 'subjects',
  subject: 'subjects',
  levels: 'levels',
  level: 'levels',
  regions: 'regions',
  region: 'regions',
  postal: 'postalCode',
  postalcode: 'postalCode',
  maxdistance: 'maxDistanceKm',
  maxdistancekm: 'maxDistanceKm',
  dmmaxdistancekm: 'maxDistanceKm',
  minrate: 'minRate',
  modes: 'learningModes',
  learningmodes: 'learningModes',
  types: 'tutorTypes',
  tutortypes: 'tutorTypes',
  dmdailylimit: 'dmDailyLimit',
  active: 'active',
};

function fieldFor(name: string): keyof ParsedTutorInput | null {
  return FIELD_ALIASES[name.toLowerCase().replace(/[^a-z]/g, '')] ?? null;
}

interface ImportRow {
  where: string;
  data: Record<string, unknown>;
}

/** RFC 4180-ish CSV: quoted fields with "" escapes and embedded newlines; records keep their starting line number. */
export function parseCsv(text: string): Array<{ line: number; cells: string[] }> {
  const records: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let touched = false;
  const src = text.replace(/^\uFEFF/, '');
  const endRecord = () => {
    cells.push(cell);
    if (touched || cells.length > 1 || cell.trim() !== '') records.push({ line: start, cells });
    cells = [];
    cell = '';
    touched = false;
  };
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"') {
      quoted = true;
      touched = true;
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else cell += ch;
  }
  if (quoted) throw new UserError(`line ${start}: unterminated quoted field`);
  if (cell !== '' || cells.length > 0 || touched) endRecord();
  return records;
}

function csvRows(text: string): ImportRow[] {
  const records = parseCsv(text);
  const [header, ...body] = records;
  if (!header) return [];
  const fields = header.cells.map((name, i) => {
    const f = fieldFor(name.trim());
    if (!f) throw new UserError(`line ${header.line}: unknown column "${name.trim()}" (column ${i + 1})`);
    return f;
  });
  const dup = fields.find((f, i) => fields.indexOf(f) !== i);
  if (dup) throw new UserError(`line ${header.line}: column for ${dup} appears twice`);
  return body.map((r) => {
    if (r.cells.length > fields.length) throw new UserError(`line ${r.line}: ${r.cells.length} cells but the header has ${fields.length} columns`);
    const data: Record<string, unknown> = {};
    fields.forEach((f, i) => {
      const v = (r.cells[i] ?? '').trim();
      if (v !== '') data[f] = v;
    });
    return { where: `line ${r.line}: `, data };
  });
}

function jsonRows(text: string, file: string): ImportRow[] {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new UserError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(value)) throw new UserError(`${file}: expected a JSON array of tutor objects`);
  return value.map((item, i) => {
    const where = `row ${i + 1}: `;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new UserError(`${where}expected an object`);
    const data: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(item as Record<string, unknown>)) {
      const f = fieldFor(k);
      if (!f) throw new UserError(`${where}${k}: unknown field`);
      if (f in data) throw new UserError(`${where}${k}: field given twice`);
      if (v !== undefined) data[f] = v;
    }
    return { where, data };
  });
}

/** Which format a file holds: by extension, else by its first non-blank character. */
export function detectImportFormat(filePath: string, text: string): 'csv' | 'json' {
  const ext = path.extname(filePath).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.csv') return 'csv';
  return /^\uFEFF?\s*[[{]/.test(text) ? 'json' : 'csv';
}

/**
 * Import tutors from a CSV (header row; list cells separated by `;` or `|`) or JSON (array of objects) file.
 * Every row is validated first; then all rows are upserted by chat id in one transaction. Any bad row → UserError
 * naming the line/row and field, and nothing is written.
 */
export async function importTutors(db: Database, filePath: string): Promise<{ inserted: number; updated: number }> {
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${filePath}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const rows = detectImportFormat(filePath, text) === 'json' ? jsonRows(text, filePath) : csvRows(text);
  if (rows.length === 0) throw new UserError(`${filePath} holds no tutors (a CSV needs a header row and at least one tutor; JSON an array of tutors)`);
  const parsed: Array<{ where: string; input: ParsedTutorInput }> = [];
  const seen = new Map<number, string>();
  for (const row of rows) {
    const input = parseTutorInput(row.data, row.where);
    const previous = seen.get(input.chatId);
    if (previous) throw new UserError(`${row.where}chatId: chat id ${input.chatId} already appears at ${previous.replace(/: $/, '')}`);
    seen.set(input.chatId, row.where);
    parsed.push({ where: row.where, input });
  }
  return db.transaction(async (tx) => {
    let inserted = 0;
    let updated = 0;
    for (const { input } of parsed) {
      const r = await writeTutor(tx, input);
      if (r.inserted) inserted++;
      else updated++;
    }
    return { inserted, updated };
  });
}
