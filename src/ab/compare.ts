import type { Queryable } from '../db/index.ts';
import type { LoadedExample } from '../extraction/examples.ts';
import { normalizeText } from '../extraction/hardening/index.ts';
import { DAYS } from '../extraction/schema.ts';
import { nt, scoreCase, summarize, FIELDS as GOLD_FIELDS, type ScoredCase, type Summary } from '../extraction/score.ts';
import { buildSignals } from '../extraction/signals/index.ts';

/**
 * A/B comparison of two pipeline versions over the same raw messages (docs/operations.md, "Enqueue, drain, reparse,
 * A/B"): keyset pagination by raw_id (no silent truncation), the channel filter applied, null/null reported as
 * `both_empty` and never as agreement, compilation posts compared through their items, and gold scoring through the
 * eval scorer (`scoreCase` / `summarize`), never re-implemented here.
 */

export type FieldKind = 'text' | 'list' | 'number';
/** A normalised field value: text via `nt`, lists as sorted de-duplicated `nt` sets, numbers as numbers; empty → null. */
export type FieldValue = string | number | string[] | null;

export interface FieldComparison {
  field: string;
  kind: FieldKind;
  /** intersection rows where at least one side has a value (the agreement denominator) */
  compared: number;
  /** rows among `compared` whose normalised values are equal */
  agree: number;
  /** agree / compared; null when compared = 0 */
  agreement: number | null;
  /** the same restricted to rows where both jobs are `ok` */
  compared_both_ok: number;
  agree_both_ok: number;
  agreement_both_ok: number | null;
  /** intersection rows where neither side has a value (not counted as agreement) */
  both_empty: number;
  /** intersection rows where the side has a value */
  filled_a: number;
  filled_b: number;
  /** filled / intersection; null when the intersection is empty */
  fill_a: number | null;
  fill_b: number | null;
  /** raw ids (ascending) where the values differ */
  disagreeing_raw_ids: number[];
}

export interface Distribution {
  count: number;
  p50: number | null;
  p95: number | null;
}

export interface GoldStats {
  /** gold cases matched to a message of the intersection (by whitespace-insensitive raw text) */
  matched: number;
  micro: number | null;
  macro: number | null;
  exact_rate: number | null;
  per_field: Record<string, number>;
  per_agency: Record<string, number>;
}

export interface SideStats {
  version: string;
  /** every job of this version in the window (any status) */
  jobs: number;
  by_status: Record<string, number>;
  ok: number;
  /** ok jobs of compilation posts (meta.items) and their item total */
  compilation_jobs: number;
  items_total: number;
  /** meta.extractor.latency_ms over jobs that have it (nearest-rank percentiles) */
  latency_ms: Distribution;
  /** sum of meta.stages.* per job */
  stages_total_ms: Distribution;
  tokens: { jobs_with_usage: number; prompt: number; completion: number; total: number; mean_total: number | null };
  /** share of ok jobs whose extractor result was reused (meta.extractor.cache_hit) */
  reuse: { ok_jobs: number; cache_hits: number; rate: number | null };
  /** accuracy against gold examples, when gold was given */
  gold: GoldStats | null;
}

/** One intersection message, ready for the side-by-side CSV. */
export interface AbRow {
  raw_id: number;
  channel_link: string;
  message_id: number;
  message_date: string;
  /** first 120 characters, on one line */
  excerpt: string;
  status_a: string;
  status_b: string;
  a: Record<string, FieldValue>;
  b: Record<string, FieldValue>;
  eq: Record<string, boolean>;
}

/** A disagreeing message with its whole raw text, for the HTML report. */
export interface AbSample {
  raw_id: number;
  channel_link: string;
  message_id: number;
  message_date: string;
  raw_text: string;
  status_a: string;
  status_b: string;
  fields: { field: string; a: FieldValue; b: FieldValue }[];
}

export interface AbComparison {
  pipelines: { a: string; b: string };
  filters: { since: string | null; until: string | null; channels: string[] | null };
  generated_at: string;
  counts: { a: number; b: number; intersection: number; both_ok: number; only_a: number; only_b: number };
  sides: { a: SideStats; b: SideStats };
  fields: FieldComparison[];
  /** intersection messages with at least one disagreeing field */
  disagreeing_messages: number;
  /** the first SAMPLE_LIMIT of them, with raw text */
  samples: AbSample[];
  /** how the less obvious figures were derived */
  notes: string[];
  /** one row per intersection message (not written to summary.json) */
  rows: AbRow[];
}

export interface CompareOptions {
  a: string;
  b: string;
  since: Date | null;
  until: Date | null;
  channels: string[] | null;
  gold: LoadedExample[] | null;
  pageSize?: number;
}

export const SAMPLE_LIMIT = 50;
const RAW_TEXT_LIMIT = 4000;

interface FieldDef {
  field: string;
  kind: FieldKind;
  get: (job: Job, raw: RawInfo) => FieldValue;
}

interface Job {
  status: string;
  canonical: Record<string, unknown> | null;
  meta: Record<string, unknown>;
}

interface RawInfo {
  text: string;
  channelLink: string;
}

// ---------- normalisation (the scorer's `nt`) ----------

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function path(obj: unknown, dotted: string): unknown {
  let cur: unknown = obj;
  for (const k of dotted.split('.')) {
    if (!isRecord(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function scalarText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

export function normText(v: unknown): string | null {
  const s = Array.isArray(v)
    ? v
        .map(scalarText)
        .filter((x) => x !== null)
        .join('\n')
    : scalarText(v);
  if (s === null) return null;
  const t = nt(s);
  return t === '' ? null : t;
}

export function normList(v: unknown): string[] | null {
  const items = Array.isArray(v) ? v : v === null || v === undefined ? [] : [v];
  const out = [...new Set(items.map(normText).filter((x): x is string => x !== null))].sort();
  return out.length ? out : null;
}

export function normNumber(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

/** A day map → sorted "day HH:MM-HH:MM" entries (week order, then time). */
function daySlots(v: unknown): string[] | null {
  if (!isRecord(v)) return null;
  const out: string[] = [];
  for (const day of DAYS) {
    const slots = v[day];
    if (!Array.isArray(slots)) continue;
    for (const s of [...new Set(slots.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.replace(/\s+/g, '')))].sort()) {
      out.push(`${day} ${s}`);
    }
  }
  return out.length ? out : null;
}

export function valuesEqual(x: FieldValue, y: FieldValue): boolean {
  if (x === null || y === null) return x === y;
  if (typeof x === 'number' && typeof y === 'number') return Math.abs(x - y) <= 0.01;
  if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((s, i) => s === y[i]);
  return x === y;
}

const isOk = (j: Job | null): j is Job & { canonical: Record<string, unknown> } => j !== null && j.status === 'ok' && j.canonical !== null;

function items(job: Job): Record<string, unknown>[] | null {
  const list = job.meta.items;
  if (!Array.isArray(list) || list.length === 0) return null;
  return list.filter(isRecord);
}

/**
 * Recomputed signals. buildSignals reads only the raw post, the channel and the canonical headline
 * (academic_display_text), so both sides of a row share one computation when their headlines are equal.
 */
type SignalValues = { subjects: string[] | null; levels: string[] | null };
const signalsCache = new WeakMap<RawInfo, Map<string, SignalValues>>();
function signalsOf(job: Job, raw: RawInfo): SignalValues {
  const headline = typeof job.canonical?.academic_display_text === 'string' ? job.canonical.academic_display_text : '';
  let perRow = signalsCache.get(raw);
  if (!perRow) {
    perRow = new Map();
    signalsCache.set(raw, perRow);
  }
  let s = perRow.get(headline);
  if (!s) {
    const { signals } = buildSignals(job.canonical, raw.text, normalizeText(raw.text), raw.channelLink);
    s = { subjects: normList(signals?.subjects_canonical ?? null), levels: normList(signals?.levels ?? null) };
    perRow.set(headline, s);
  }
  return s;
}

const text = (p: string): FieldDef => ({ field: p, kind: 'text', get: (j) => (isOk(j) ? normText(path(j.canonical, p)) : null) });
const list = (p: string): FieldDef => ({ field: p, kind: 'list', get: (j) => (isOk(j) ? normList(path(j.canonical, p)) : null) });
const num = (p: string): FieldDef => ({ field: p, kind: 'number', get: (j) => (isOk(j) ? normNumber(path(j.canonical, p)) : null) });

/**
 * The compared fields, in report order. Only `ok` jobs have values; any other status reads as empty everywhere.
 * For a compilation post the canonical fields are those of its first item (what canonical_json holds) and the
 * `items.*` fields compare the whole compilation.
 */
export const FIELD_DEFS: FieldDef[] = [
  text('assignment_code'),
  text('academic_display_text'),
  { field: 'signals.subjects', kind: 'list', get: (j, r) => (isOk(j) ? signalsOf(j, r).subjects : null) },
  { field: 'signals.levels', kind: 'list', get: (j, r) => (isOk(j) ? signalsOf(j, r).levels : null) },
  text('learning_mode.mode'),
  text('learning_mode.raw_text'),
  list('address'),
  list('postal_code'),
  list('postal_code_estimated'),
  { field: 'region', kind: 'text', get: (j) => (isOk(j) ? normText(path(j.meta, 'geo.region')) : null) },
  list('nearest_mrt'),
  list('lesson_schedule'),
  text('start_date'),
  num('rate.min'),
  num('rate.max'),
  text('rate.raw_text'),
  { field: 'time_availability.explicit', kind: 'list', get: (j) => (isOk(j) ? daySlots(path(j.canonical, 'time_availability.explicit')) : null) },
  { field: 'time_availability.estimated', kind: 'list', get: (j) => (isOk(j) ? daySlots(path(j.canonical, 'time_availability.estimated')) : null) },
  text('time_availability.note'),
  {
    field: 'tutor_types',
    kind: 'list',
    get: (j) => (isOk(j) && Array.isArray(j.canonical.tutor_types) ? normList(j.canonical.tutor_types.map((t) => (isRecord(t) ? t.canonical : t))) : null),
  },
  text('additional_remarks'),
  { field: 'assignment_status', kind: 'text', get: (j) => (isOk(j) ? (normText(path(j.meta, 'status_detection.status')) ?? 'open') : null) },
  { field: 'items.count', kind: 'number', get: (j) => (isOk(j) ? (items(j)?.length ?? 1) : null) },
  {
    field: 'items.codes',
    kind: 'list',
    get: (j) => {
      const it = isOk(j) ? items(j) : null;
      return it ? normList(it.map((i) => path(i, 'canonical.assignment_code') ?? i.item_code)) : null;
    },
  },
  {
    field: 'items.headlines',
    kind: 'list',
    get: (j) => {
      const it = isOk(j) ? items(j) : null;
      return it ? normList(it.map((i) => path(i, 'canonical.academic_display_text'))) : null;
    },
  },
];

export const COMPARED_FIELDS = FIELD_DEFS.map((f) => f.field);

const NOTES = [
  'Only ok jobs carry values; pending/processing/failed/skipped jobs read as empty on every field.',
  'Agreement = equal normalised values over intersection rows where at least one side has a value; rows where both are empty are reported as both_empty and never count as agreement.',
  'Fill rate = share of intersection rows where the side has a value.',
  'Normalisation follows the gold scorer: text via nt(), lists as sorted de-duplicated nt() sets, numbers compared within 0.01.',
  'signals.subjects / signals.levels are not stored on the job: they are recomputed with buildSignals(canonical, raw text) for each side (subjects_canonical, levels). Both sides see the same raw text, so differences come from the canonical headline.',
  'Compilation posts: canonical fields compare the first item (what canonical_json holds); items.count (1 for a single post), items.codes and items.headlines compare the whole compilation.',
  'assignment_status = meta.status_detection.status, or open when absent; region = meta.geo.region.',
  'Latency and stage percentiles are nearest-rank; token means are over jobs that report usage; reuse rate is over ok jobs.',
  'Gold: a gold case matches a message when their raw texts are equal ignoring all whitespace; a side whose job is not ok is scored as an empty prediction.',
];

// ---------- database ----------

interface PageRow {
  raw_id: number | string;
  channel_link: string;
  message_id: number | string;
  message_date: Date | string;
  raw_text: string | null;
  a_status: string | null;
  a_canonical: unknown;
  a_meta: unknown;
  b_status: string | null;
  b_canonical: unknown;
  b_meta: unknown;
}

/** One page of messages that have a job of either version, after the filters, keyset by raw id. */
async function fetchPage(db: Queryable, o: CompareOptions, channels: string[] | null, after: number, limit: number): Promise<PageRow[]> {
  return db.query<PageRow>(
    `with page as (
       select r.id
         from telegram_messages_raw r
        where r.id > $3
          and ($4::timestamptz is null or r.message_date >= $4::timestamptz)
          and ($5::timestamptz is null or r.message_date < $5::timestamptz)
          and ($6::text[] is null or r.channel_link = any($6::text[]))
          and exists (select 1 from telegram_extractions e where e.raw_id = r.id and e.pipeline_version in ($1, $2))
        order by r.id
        limit $7
     )
     select r.id as raw_id, r.channel_link, r.message_id, r.message_date, r.raw_text,
            a.status as a_status, a.canonical_json as a_canonical, a.meta as a_meta,
            b.status as b_status, b.canonical_json as b_canonical, b.meta as b_meta
       from page p
       join telegram_messages_raw r on r.id = p.id
       left join telegram_extractions a on a.raw_id = r.id and a.pipeline_version = $1
       left join telegram_extractions b on b.raw_id = r.id and b.pipeline_version = $2
      order by r.id`,
    [o.a, o.b, after, o.since?.toISOString() ?? null, o.until?.toISOString() ?? null, channels, limit],
  );
}

// ---------- accumulation ----------

function toJob(status: string | null, canonical: unknown, meta: unknown): Job | null {
  if (status === null) return null;
  const parse = (v: unknown): unknown => (typeof v === 'string' ? safeJson(v) : v);
  const c = parse(canonical);
  const m = parse(meta);
  return { status, canonical: isRecord(c) ? c : null, meta: isRecord(m) ? m : {} };
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

class SideAcc {
  jobs = 0;
  byStatus: Record<string, number> = {};
  ok = 0;
  compilationJobs = 0;
  itemsTotal = 0;
  latency: number[] = [];
  stages: number[] = [];
  usageJobs = 0;
  prompt = 0;
  completion = 0;
  total = 0;
  cacheHits = 0;
  gold: ScoredCase[] = [];

  add(job: Job): void {
    this.jobs++;
    this.byStatus[job.status] = (this.byStatus[job.status] ?? 0) + 1;
    const ex = path(job.meta, 'extractor');
    const latency = normNumber(path(ex, 'latency_ms'));
    if (latency !== null) this.latency.push(latency);
    const stages = job.meta.stages;
    if (isRecord(stages)) {
      const vals = Object.values(stages)
        .map(normNumber)
        .filter((x): x is number => x !== null);
      if (vals.length) this.stages.push(vals.reduce((s, x) => s + x, 0));
    }
    const usage = path(ex, 'usage');
    if (isRecord(usage)) {
      this.usageJobs++;
      this.prompt += normNumber(usage.prompt_tokens) ?? 0;
      this.completion += normNumber(usage.completion_tokens) ?? 0;
      this.total += normNumber(usage.total_tokens) ?? 0;
    }
    if (job.status === 'ok') {
      this.ok++;
      if (path(ex, 'cache_hit') === true) this.cacheHits++;
      const it = items(job);
      if (it) {
        this.compilationJobs++;
        this.itemsTotal += it.length;
      } else if (job.canonical) {
        this.itemsTotal += 1;
      }
    }
  }

  stats(version: string, withGold: boolean): SideStats {
    return {
      version,
      jobs: this.jobs,
      by_status: sortKeys(this.byStatus),
      ok: this.ok,
      compilation_jobs: this.compilationJobs,
      items_total: this.itemsTotal,
      latency_ms: distribution(this.latency),
      stages_total_ms: distribution(this.stages),
      tokens: {
        jobs_with_usage: this.usageJobs,
        prompt: this.prompt,
        completion: this.completion,
        total: this.total,
        mean_total: this.usageJobs ? this.total / this.usageJobs : null,
      },
      reuse: { ok_jobs: this.ok, cache_hits: this.cacheHits, rate: this.ok ? this.cacheHits / this.ok : null },
      gold: withGold ? goldStats(this.gold.length ? summarize(this.gold) : null, this.gold.length) : null,
    };
  }
}

function goldStats(s: Summary | null, matched: number): GoldStats {
  if (!s) return { matched, micro: null, macro: null, exact_rate: null, per_field: Object.fromEntries(GOLD_FIELDS.map((f) => [f, 0])), per_agency: {} };
  return { matched, micro: s.micro, macro: s.macro, exact_rate: s.exactRate, per_field: s.perField, per_agency: sortKeys(s.perAgency) };
}

/** Nearest-rank percentile of a sorted list. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1] ?? null;
}

function distribution(xs: number[]): Distribution {
  const s = [...xs].sort((x, y) => x - y);
  return { count: s.length, p50: percentile(s, 0.5), p95: percentile(s, 0.95) };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

const rate = (n: number, d: number): number | null => (d === 0 ? null : n / d);

/** Whitespace-insensitive key for matching gold cases to raw posts. */
export const goldKey = (s: string): string => s.normalize('NFKC').replace(/\s+/g, '');

function excerptOf(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 120);
}

function isoDate(d: Date | string): string {
  return (d instanceof Date ? d : new Date(d)).toISOString();
}

export function normalizeChannels(channels: string[] | null): string[] | null {
  if (channels === null) return null;
  return [
    ...new Set(
      channels
        .map((c) =>
          c
            .trim()
            .toLowerCase()
            .replace(/^https?:\/\//, '')
            .replace(/^@/, 't.me/'),
        )
        .filter((c) => c !== ''),
    ),
  ];
}

export async function compareVersions(db: Queryable, opts: CompareOptions): Promise<AbComparison> {
  const pageSize = Math.max(1, Math.floor(opts.pageSize ?? 500));
  const channels = normalizeChannels(opts.channels);
  const gold = new Map<string, LoadedExample>();
  for (const ex of opts.gold ?? []) {
    const k = goldKey(ex.raw);
    if (!gold.has(k)) gold.set(k, ex);
  }
  const accA = new SideAcc();
  const accB = new SideAcc();
  const fieldAcc = FIELD_DEFS.map((d) => ({
    def: d,
    compared: 0,
    agree: 0,
    comparedOk: 0,
    agreeOk: 0,
    bothEmpty: 0,
    filledA: 0,
    filledB: 0,
    ids: [] as number[],
  }));
  const counts = { a: 0, b: 0, intersection: 0, both_ok: 0, only_a: 0, only_b: 0 };
  const rows: AbRow[] = [];
  const samples: AbSample[] = [];
  let disagreeing = 0;

  let after = 0;
  for (;;) {
    const page = await fetchPage(db, opts, channels, after, pageSize);
    if (page.length === 0) break;
    for (const r of page) {
      const rawId = Number(r.raw_id);
      after = rawId;
      const a = toJob(r.a_status, r.a_canonical, r.a_meta);
      const b = toJob(r.b_status, r.b_canonical, r.b_meta);
      if (a) {
        counts.a++;
        accA.add(a);
      }
      if (b) {
        counts.b++;
        accB.add(b);
      }
      if (!a || !b) {
        if (a) counts.only_a++;
        else counts.only_b++;
        continue;
      }
      counts.intersection++;
      const bothOk = a.status === 'ok' && b.status === 'ok';
      if (bothOk) counts.both_ok++;
      const raw: RawInfo = { text: r.raw_text ?? '', channelLink: r.channel_link };
      const row: AbRow = {
        raw_id: rawId,
        channel_link: r.channel_link,
        message_id: Number(r.message_id),
        message_date: isoDate(r.message_date),
        excerpt: excerptOf(raw.text),
        status_a: a.status,
        status_b: b.status,
        a: {},
        b: {},
        eq: {},
      };
      const diffs: AbSample['fields'] = [];
      for (const f of fieldAcc) {
        const va = f.def.get(a, raw);
        const vb = f.def.get(b, raw);
        const eq = valuesEqual(va, vb);
        row.a[f.def.field] = va;
        row.b[f.def.field] = vb;
        row.eq[f.def.field] = eq;
        if (va !== null) f.filledA++;
        if (vb !== null) f.filledB++;
        if (va === null && vb === null) {
          f.bothEmpty++;
          continue;
        }
        f.compared++;
        if (bothOk) f.comparedOk++;
        if (eq) {
          f.agree++;
          if (bothOk) f.agreeOk++;
        } else {
          f.ids.push(rawId);
          diffs.push({ field: f.def.field, a: va, b: vb });
        }
      }
      rows.push(row);
      if (diffs.length) {
        disagreeing++;
        if (samples.length < SAMPLE_LIMIT) {
          samples.push({
            raw_id: rawId,
            channel_link: row.channel_link,
            message_id: row.message_id,
            message_date: row.message_date,
            raw_text: raw.text.length > RAW_TEXT_LIMIT ? `${raw.text.slice(0, RAW_TEXT_LIMIT)}…` : raw.text,
            status_a: a.status,
            status_b: b.status,
            fields: diffs,
          });
        }
      }
      const ex = gold.size ? gold.get(goldKey(raw.text)) : undefined;
      if (ex) {
        for (const [acc, job] of [
          [accA, a],
          [accB, b],
        ] as const) {
          const s = scoreCase(ex.expected, isOk(job) ? job.canonical : null);
          acc.gold.push({ agency: ex.agency, perField: s.perField, total: s.total, exact: s.exact });
        }
      }
    }
    if (page.length < pageSize) break;
  }

  const n = counts.intersection;
  const fields: FieldComparison[] = fieldAcc.map((f) => ({
    field: f.def.field,
    kind: f.def.kind,
    compared: f.compared,
    agree: f.agree,
    agreement: rate(f.agree, f.compared),
    compared_both_ok: f.comparedOk,
    agree_both_ok: f.agreeOk,
    agreement_both_ok: rate(f.agreeOk, f.comparedOk),
    both_empty: f.bothEmpty,
    filled_a: f.filledA,
    filled_b: f.filledB,
    fill_a: rate(f.filledA, n),
    fill_b: rate(f.filledB, n),
    disagreeing_raw_ids: f.ids,
  }));
  const withGold = opts.gold !== null;
  return {
    pipelines: { a: opts.a, b: opts.b },
    filters: { since: opts.since?.toISOString() ?? null, until: opts.until?.toISOString() ?? null, channels },
    generated_at: new Date().toISOString(),
    counts,
    sides: { a: accA.stats(opts.a, withGold), b: accB.stats(opts.b, withGold) },
    fields,
    disagreeing_messages: disagreeing,
    samples,
    notes: NOTES,
    rows,
  };
}
