/**
 * The public assignments page's data (issue 9 item 4): query-string validation (zod) and the SQL behind
 * `GET /assignments`. Only open, unexpired assignments are ever read, one per duplicate group, and only
 * assignment/agency columns: no tutor table is touched.
 *
 * Facet counts follow the usual faceting rule: the count beside an option of filter F is the number of
 * assignments matching every *other* active filter plus F = that option, so the options of a single-valued
 * filter (region, learning mode, agency, incl. "not stated") add up to the count beside "Any".
 *
 * Paging is keyset (no OFFSET): the opaque cursor holds the sort key of the last row shown and its id, so rows
 * inserted while someone pages (newer ones land before the cursor) never shift or repeat a page.
 */
import { z } from 'zod';
import type { Queryable } from '../db/index.ts';
import { coordsForPostalCode, normalizePostalCode } from '../extraction/index.ts';

export const PUBLIC_PAGE_SIZE = 20;
/** Whole query strings longer than this are refused before parsing. */
export const MAX_QUERY_LENGTH = 2000;
/** Thresholds offered for "minimum rate" (any whole number is accepted in the URL). */
export const RATE_STEPS = [20, 25, 30, 40, 50, 60, 80, 100] as const;

/** A query string we refuse: the reason is shown on a 400 page. */
export class PublicQueryError extends Error {}

/** Control characters (tab, newline and CR allowed): refused in every query value. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

const text = (max: number) =>
  z
    .string()
    .max(max, `at most ${max} characters`)
    .refine((v) => !CONTROL.test(v), 'control characters are not allowed')
    .transform((v) => v.trim().replace(/\s+/g, ' '))
    .transform((v) => (v === '' ? null : v));

const wholeNumber = (max: number, what: string) =>
  z
    .string()
    .max(12, what)
    .transform((v) => v.trim())
    .refine((v) => v === '' || (/^\d+$/.test(v) && Number(v) <= max), what)
    .transform((v) => (v === '' ? null : Number(v)));

const CursorSchema = z.union([
  z.object({ s: z.literal('new'), t: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/), id: z.number().int().positive() }).strict(),
  z.object({ s: z.literal('near'), k: z.number().int().min(0).max(1e12), id: z.number().int().positive() }).strict(),
]);
export type Cursor = z.infer<typeof CursorSchema>;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

function decodeCursor(v: string): Cursor {
  try {
    return CursorSchema.parse(JSON.parse(Buffer.from(v, 'base64url').toString('utf8')));
  } catch {
    throw new PublicQueryError('cursor: not a page link this site made (start again from the first page)');
  }
}

const nearSchema = text(20).transform((v, ctx) => {
  if (v === null) return null;
  const code = /^[sS]?\s?\d{3}\s?\d{3}$/.test(v) ? normalizePostalCode(v) : null;
  const where = code ? coordsForPostalCode(code) : null;
  if (!code || !where) {
    ctx.addIssue({ code: 'custom', message: 'a six-digit Singapore postal code' });
    return z.NEVER;
  }
  return { code, lat: where.lat, lon: where.lon };
});

export const PublicQuerySchema = z.object({
  subject: text(100).default(null),
  level: text(100).default(null),
  region: text(100).default(null),
  mode: text(50).default(null),
  agency: wholeNumber(1e12, 'an agency number').default(null),
  minrate: wholeNumber(10_000, 'a whole number of dollars up to 10000').default(null),
  q: text(200).default(null),
  near: nearSchema.default(null),
  cursor: z
    .string()
    .max(300, 'too long')
    .regex(/^[A-Za-z0-9_-]*$/, 'not a page link this site made')
    .transform((v) => (v === '' ? null : v))
    .default(null),
});

export interface PublicQuery {
  subject: string | null;
  level: string | null;
  region: string | null;
  mode: string | null;
  agency: number | null;
  minrate: number | null;
  q: string | null;
  near: { code: string; lat: number; lon: number } | null;
  cursor: Cursor | null;
}

const KNOWN = new Set(Object.keys(PublicQuerySchema.shape));

/**
 * Parse a raw query string ("?a=b&…" or "a=b&…"). Unknown parameters (utm tags from shared links) are ignored;
 * a known one given twice, a value of the wrong shape, control characters or an oversized query are refused.
 */
export function parsePublicQuery(search: string): PublicQuery {
  const raw = search.startsWith('?') ? search.slice(1) : search;
  if (raw.length > MAX_QUERY_LENGTH) throw new PublicQueryError(`query string: at most ${MAX_QUERY_LENGTH} characters`);
  const params = new URLSearchParams(raw);
  const values: Record<string, string> = {};
  for (const [key, value] of params) {
    if (!KNOWN.has(key)) continue;
    if (key in values) throw new PublicQueryError(`${key}: given more than once`);
    values[key] = value;
  }
  const parsed = PublicQuerySchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PublicQueryError(`${issue.path.join('.') || 'query'}: ${issue.message}`);
  }
  const p = parsed.data;
  return { ...p, cursor: p.cursor ? decodeCursor(p.cursor) : null };
}

/** Query string for a set of filters (without the cursor unless given), for links and the next page. */
export function queryString(q: PublicQuery, cursor: string | null = null): string {
  const out = new URLSearchParams();
  const put = (k: string, v: string | number | null) => {
    if (v !== null && v !== '') out.set(k, String(v));
  };
  put('subject', q.subject);
  put('level', q.level);
  put('region', q.region);
  put('mode', q.mode);
  put('agency', q.agency);
  put('minrate', q.minrate);
  put('q', q.q);
  put('near', q.near?.code ?? null);
  put('cursor', cursor);
  const s = out.toString();
  return s ? `?${s}` : '';
}

export interface PublicCard {
  id: number;
  code: string | null;
  title: string | null;
  subjects: string[];
  levels: string[];
  specificLevels: string[];
  mode: string | null;
  region: string | null;
  address: string[];
  mrt: string[];
  rateMin: number | null;
  rateMax: number | null;
  rateText: string | null;
  schedule: string[];
  startDate: string | null;
  remarks: string | null;
  tutorTypes: string[];
  agency: string;
  link: string | null;
  publishedAt: Date | null;
  lastSeenAt: Date | null;
  bumpCount: number;
  freshness: string | null;
  /** metres from the postal code of a distance sort (null: online or no location) */
  distanceM: number | null;
}

export interface FacetOption {
  /** null: the "not stated" bucket */
  value: string | null;
  label: string;
  count: number;
}

export interface PublicResult {
  /** assignments matching every filter */
  total: number;
  cards: PublicCard[];
  nextCursor: string | null;
  facets: {
    subject: { any: number; options: FacetOption[] };
    level: { any: number; options: FacetOption[] };
    region: { any: number; options: FacetOption[] };
    mode: { any: number; options: FacetOption[] };
    agency: { any: number; options: FacetOption[] };
    minrate: { any: number; options: FacetOption[] };
  };
}

const likeWord = (w: string) => `%${w.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The filtered set as a CTE chain. Parameters: $1 expiry cutoff, $2 subject, $3 level, $4 region, $5 mode,
 * $6 agency, $7 min rate, $8 search words (text[] of LIKE patterns), $9 lat, $10 lon.
 */
const BASE = `
with live as (
  select a.id, a.agency_id, a.assignment_code, a.academic_display_text, a.subjects, a.levels, a.specific_levels, a.learning_mode, a.region,
         a.address, a.nearest_mrt, a.nearest_mrt_computed, a.rate_min, a.rate_max, a.rate_raw_text, a.lesson_schedule, a.start_date,
         a.additional_remarks, a.tutor_types, a.message_link, a.published_at, a.bump_count, a.freshness_tier, a.postal_lat, a.postal_lon,
         a.duplicate_group_id, a.is_primary, coalesce(a.source_last_seen, a.published_at, a.created_at) as sort_at
    from assignments a
   where a.status = 'open' and coalesce(a.source_last_seen, a.published_at, a.created_at) > $1::timestamptz
), vis as (
  -- one row per duplicate group: its primary, or (primary closed/expired) its lowest open member
  select x.* from (
    select l.*, bool_or(l.is_primary) over (partition by l.duplicate_group_id) as group_has_primary,
           row_number() over (partition by l.duplicate_group_id order by l.id) as group_rank
      from live l
  ) x
   where x.duplicate_group_id is null or x.is_primary or (not x.group_has_primary and x.group_rank = 1)
), f as (
  select v.*, g.agency_display_name as agency_name,
         coalesce(v.rate_max, v.rate_min)::float8 as best_rate,
         ($2::text is null or $2::text = any(v.subjects)) as m_subject,
         ($3::text is null or $3::text = any(v.levels)) as m_level,
         ($4::text is null or v.region = $4::text) as m_region,
         ($5::text is null or v.learning_mode = $5::text) as m_mode,
         ($6::bigint is null or v.agency_id = $6::bigint) as m_agency,
         ($7::float8 is null or coalesce(v.rate_max, v.rate_min) >= $7::float8) as m_rate,
         (cardinality($8::text[]) = 0 or coalesce((select bool_and(concat_ws(' ', v.academic_display_text, v.assignment_code, array_to_string(v.subjects, ' '),
                    array_to_string(v.levels, ' '), array_to_string(v.specific_levels, ' '), v.region, v.learning_mode,
                    array_to_string(v.address, ' '), array_to_string(v.nearest_mrt, ' '), v.nearest_mrt_computed,
                    v.additional_remarks, v.rate_raw_text, g.agency_display_name) ilike w)
                   from unnest($8::text[]) w), true)) as m_q,
         case when $9::float8 is null or v.postal_lat is null or v.postal_lon is null or v.learning_mode = 'Online' then null
              else round(2 * 6371008.8 * asin(least(1, sqrt(
                     power(sin(radians(v.postal_lat - $9::float8) / 2), 2)
                     + cos(radians($9::float8)) * cos(radians(v.postal_lat)) * power(sin(radians(v.postal_lon - $10::float8) / 2), 2)))))::bigint
         end as dist_m
    from vis v join agencies g on g.id = v.agency_id
)`;

/** Sort key of the distance order: rows without a distance go last, in id order. */
const NO_DISTANCE = 999_999_999_999;

export interface PublicQueryOptions {
  /** assignments whose source is older than this many hours count as expired even before the expiry job runs */
  expireHours: number;
  now?: Date;
  pageSize?: number;
}

type CardRow = {
  id: number;
  assignment_code: string | null;
  academic_display_text: string | null;
  subjects: string[];
  levels: string[];
  specific_levels: string[];
  learning_mode: string | null;
  region: string | null;
  address: string[] | null;
  nearest_mrt: string[] | null;
  nearest_mrt_computed: string | null;
  rate_min: number | null;
  rate_max: number | null;
  rate_raw_text: string | null;
  lesson_schedule: string[] | null;
  start_date: string | null;
  additional_remarks: string | null;
  tutor_types: string[];
  agency_name: string;
  message_link: string | null;
  published_at: Date | string | null;
  sort_at: Date | string;
  sort_text: string;
  bump_count: number;
  freshness_tier: string | null;
  dist_m: number | string | null;
  dist_key: number | string;
};

const date = (d: Date | string | null): Date | null => (d === null ? null : new Date(d));
const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

export async function queryPublicAssignments(db: Queryable, q: PublicQuery, o: PublicQueryOptions): Promise<PublicResult> {
  const now = o.now ?? new Date();
  const pageSize = o.pageSize ?? PUBLIC_PAGE_SIZE;
  const words = (q.q ?? '').split(' ').filter(Boolean).slice(0, 10).map(likeWord);
  const params: unknown[] = [
    new Date(now.getTime() - o.expireHours * 3_600_000).toISOString(),
    q.subject,
    q.level,
    q.region,
    q.mode,
    q.agency,
    q.minrate,
    words,
    q.near?.lat ?? null,
    q.near?.lon ?? null,
  ];

  const byDistance = q.near !== null;
  if (q.cursor && (q.cursor.s === 'near') !== byDistance)
    throw new PublicQueryError('cursor: belongs to a different sort order (start again from the first page)');
  let after = '';
  if (q.cursor?.s === 'new') {
    params.push(q.cursor.t, q.cursor.id);
    after = `and (sort_at, id) < ($11::timestamptz, $12::bigint)`;
  } else if (q.cursor?.s === 'near') {
    params.push(q.cursor.k, q.cursor.id);
    after = `and (coalesce(dist_m, ${NO_DISTANCE}), id) > ($11::bigint, $12::bigint)`;
  }
  const order = byDistance ? `coalesce(dist_m, ${NO_DISTANCE}) asc, id asc` : 'sort_at desc, id desc';
  const rows = await db.query<CardRow>(
    `${BASE}
     select id, assignment_code, academic_display_text, subjects, levels, specific_levels, learning_mode, region, address, nearest_mrt,
            nearest_mrt_computed, rate_min::float8 as rate_min, rate_max::float8 as rate_max, rate_raw_text, lesson_schedule, start_date,
            additional_remarks, tutor_types, agency_name, message_link, published_at, sort_at, bump_count, freshness_tier, dist_m,
            to_char(sort_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as sort_text,
            coalesce(dist_m, ${NO_DISTANCE}) as dist_key
       from f
      where m_subject and m_level and m_region and m_mode and m_agency and m_rate and m_q ${after}
      order by ${order}
      limit ${pageSize + 1}`,
    params,
  );
  const page = rows.slice(0, pageSize);
  const last = page[page.length - 1];
  const nextCursor =
    rows.length > pageSize && last
      ? encodeCursor(byDistance ? { s: 'near', k: Number(last.dist_key), id: Number(last.id) } : { s: 'new', t: last.sort_text, id: Number(last.id) })
      : null;

  const facetRows = await db.query<{ facet: string; value: string | null; label: string | null; n: number }>(
    `${BASE}
     select 'total' as facet, null::text as value, null::text as label, count(*)::int as n
       from f where m_subject and m_level and m_region and m_mode and m_agency and m_rate and m_q
     union all
     select 'subject', s, null, count(distinct f.id)::int
       from f, unnest(f.subjects) s where m_level and m_region and m_mode and m_agency and m_rate and m_q group by s
     union all
     select 'subject:any', null, null, count(*)::int from f where m_level and m_region and m_mode and m_agency and m_rate and m_q
     union all
     select 'level', l, null, count(distinct f.id)::int
       from f, unnest(f.levels) l where m_subject and m_region and m_mode and m_agency and m_rate and m_q group by l
     union all
     select 'level:any', null, null, count(*)::int from f where m_subject and m_region and m_mode and m_agency and m_rate and m_q
     union all
     select 'region', region, null, count(*)::int from f where m_subject and m_level and m_mode and m_agency and m_rate and m_q group by region
     union all
     select 'mode', learning_mode, null, count(*)::int from f where m_subject and m_level and m_region and m_agency and m_rate and m_q group by learning_mode
     union all
     select 'agency', agency_id::text, min(agency_name), count(*)::int from f where m_subject and m_level and m_region and m_mode and m_rate and m_q group by agency_id
     union all
     select 'minrate', t::text, null, count(*) filter (where best_rate >= t)::int
       from f, unnest($11::int[]) t where m_subject and m_level and m_region and m_mode and m_agency and m_q group by t
     union all
     select 'minrate:any', null, null, count(*)::int from f where m_subject and m_level and m_region and m_mode and m_agency and m_q`,
    [...params.slice(0, 10), [...new Set([...RATE_STEPS, ...(q.minrate !== null ? [q.minrate] : [])])].sort((a, b) => a - b)],
  );
  const pick = (facet: string) => facetRows.filter((r) => r.facet === facet);
  const anyOf = (facet: string) => pick(facet).reduce((s, r) => s + r.n, 0);
  const byLabel = (a: FacetOption, b: FacetOption) => (a.value === null ? 1 : b.value === null ? -1 : a.label.localeCompare(b.label, 'en', { numeric: true }));
  const options = (facet: string, label: (r: { value: string | null; label: string | null }) => string) =>
    pick(facet)
      .map((r) => ({ value: r.value, label: label(r), count: r.n }))
      .sort(byLabel);
  const stated = (r: { value: string | null }) => r.value ?? 'Not stated';
  return {
    total: anyOf('total'),
    cards: page.map((r) => ({
      id: Number(r.id),
      code: r.assignment_code,
      title: r.academic_display_text,
      subjects: r.subjects ?? [],
      levels: r.levels ?? [],
      specificLevels: r.specific_levels ?? [],
      mode: r.learning_mode,
      region: r.region,
      address: r.address ?? [],
      mrt: r.nearest_mrt?.length ? r.nearest_mrt : r.nearest_mrt_computed ? [r.nearest_mrt_computed] : [],
      rateMin: num(r.rate_min),
      rateMax: num(r.rate_max),
      rateText: r.rate_raw_text,
      schedule: r.lesson_schedule ?? [],
      startDate: r.start_date,
      remarks: r.additional_remarks,
      tutorTypes: r.tutor_types ?? [],
      agency: r.agency_name,
      link: r.message_link,
      publishedAt: date(r.published_at),
      lastSeenAt: date(r.sort_at),
      bumpCount: Number(r.bump_count),
      freshness: r.freshness_tier,
      distanceM: num(r.dist_m),
    })),
    nextCursor,
    facets: {
      subject: { any: anyOf('subject:any'), options: options('subject', stated) },
      level: { any: anyOf('level:any'), options: options('level', stated) },
      region: { any: anyOf('region'), options: options('region', stated) },
      mode: { any: anyOf('mode'), options: options('mode', stated) },
      agency: { any: anyOf('agency'), options: options('agency', (r) => r.label ?? '') },
      minrate: {
        any: anyOf('minrate:any'),
        options: pick('minrate')
          .map((r) => ({ value: r.value, label: `$${r.value}/h or more`, count: r.n }))
          .sort((a, b) => Number(a.value) - Number(b.value)),
      },
    },
  };
}
