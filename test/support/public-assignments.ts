import type { Queryable } from '../../src/db/index.ts';
import { coordsForPostalCode } from '../../src/extraction/index.ts';

/** Assignment rows written straight into the projection, with exactly the fields the public page reads. */
export interface PublicFixture {
  agency?: string;
  title?: string;
  code?: string | null;
  status?: 'open' | 'closed' | 'expired';
  subjects?: string[];
  levels?: string[];
  specificLevels?: string[];
  mode?: string | null;
  region?: string | null;
  rateMin?: number | null;
  rateMax?: number | null;
  /** six-digit postal code: its coordinates come from the project's postal-code table */
  postal?: string | null;
  address?: string[] | null;
  remarks?: string | null;
  minutesAgo?: number;
  /** minutes since the last bump (defaults to minutesAgo) */
  seenMinutesAgo?: number;
  bumps?: number;
  link?: string | null;
  group?: number | null;
  primary?: boolean;
  tier?: string | null;
}

let seq = 0;

export async function agencyId(db: Queryable, name: string): Promise<number> {
  const channel = `t.me/${name.toLowerCase().replace(/[^a-z0-9]+/g, '') || 'agency'}`;
  const [found] = await db.query<{ id: number }>('select id from agencies where agency_display_name = $1', [name]);
  if (found) return Number(found.id);
  const [row] = await db.query<{ id: number }>(`insert into agencies (channel_link, agency_display_name) values ($1 || '_' || $3::text, $2) returning id`, [
    channel,
    name,
    String(++seq),
  ]);
  return Number(row!.id);
}

export async function duplicateGroup(db: Queryable): Promise<number> {
  const [g] = await db.query<{ id: number }>('insert into duplicate_groups default values returning id');
  return Number(g!.id);
}

export async function putAssignment(db: Queryable, f: PublicFixture = {}): Promise<number> {
  const agency = await agencyId(db, f.agency ?? 'Coco Tutors');
  const where = f.postal ? coordsForPostalCode(f.postal) : null;
  if (f.postal && !where) throw new Error(`no coordinates for ${f.postal}`);
  const n = ++seq;
  const minutes = f.minutesAgo ?? n;
  const [row] = await db.query<{ id: number }>(
    `insert into assignments (agency_id, external_id, status, assignment_code, academic_display_text, subjects, levels, specific_levels,
        learning_mode, region, rate_min, rate_max, postal_code, postal_lat, postal_lon, address, additional_remarks, message_link,
        published_at, source_last_seen, bump_count, duplicate_group_id, is_primary, freshness_tier)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
        now() - make_interval(mins => $19::int), now() - make_interval(mins => $20::int), $21, $22, $23, $24)
     returning id`,
    [
      agency,
      `ext-${n}`,
      f.status ?? 'open',
      f.code === undefined ? `C${n}` : f.code,
      f.title ?? `Assignment ${n}`,
      f.subjects ?? ['Maths'],
      f.levels ?? ['Primary'],
      f.specificLevels ?? [],
      f.mode === undefined ? 'Face-to-Face' : f.mode,
      f.region === undefined ? 'Central' : f.region,
      f.rateMin ?? null,
      f.rateMax ?? null,
      f.postal ? [f.postal] : null,
      where?.lat ?? null,
      where?.lon ?? null,
      f.address ?? null,
      f.remarks ?? null,
      f.link === undefined ? `https://t.me/cocotutors/${n}` : f.link,
      minutes,
      f.seenMinutesAgo ?? minutes,
      f.bumps ?? 0,
      f.group ?? null,
      f.primary ?? true,
      f.tier === undefined ? 'green' : f.tier,
    ],
  );
  return Number(row!.id);
}
