import type { Queryable } from '../db/index.ts';
import { buildContentRow } from './row.ts';
import type { AssignmentInput } from './types.ts';

/** What tells one job from another: the columns compared by `likeness`. */
export interface JobShape {
  subjects_canonical: string[] | null;
  specific_levels: string[] | null;
  levels: string[] | null;
  postal_code: string[] | null;
  address: string[] | null;
  rate_min: number | null;
  rate_max: number | null;
}

interface StoredItem extends JobShape {
  assignment_id: number;
  item_key: string;
  status: string;
}

export interface ItemIdentity {
  /** the item key each new item persists under, in input order (an earlier item of the post it is the same job as) */
  keys: string[];
  /** open assignments of this post that no item of the new text stands for any more (the agency removed them) */
  dropped: number[];
}

const set = (v: readonly string[] | null | undefined) => new Set((v ?? []).map((x) => x.toUpperCase()));
const overlap = (a: Set<string>, b: Set<string>) => [...a].some((x) => b.has(x));
const same = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

const place = (v: readonly string[] | null) =>
  (v ?? [])
    .map((x) =>
      x
        .toLowerCase()
        .replace(/[^\p{L}\p{N}]+/gu, ' ')
        .trim(),
    )
    .filter(Boolean);

/**
 * How alike two jobs are: 0 = another job (no shared subject or level, or a conflicting postal code, address or
 * rate); higher = more fields agree. Used to tell which stored assignment an item of an edited post is.
 */
export function likeness(a: JobShape, b: JobShape): number {
  const subjects = [set(a.subjects_canonical), set(b.subjects_canonical)] as const;
  const levels = [set(a.specific_levels?.length ? a.specific_levels : a.levels), set(b.specific_levels?.length ? b.specific_levels : b.levels)] as const;
  if (!overlap(...subjects) || !overlap(...levels)) return 0;
  const postal = [a.postal_code?.[0] ?? null, b.postal_code?.[0] ?? null];
  if (postal[0] && postal[1] && postal[0] !== postal[1]) return 0;
  const places = [place(a.address), place(b.address)];
  const samePlace = places[0]!.length > 0 && places[1]!.length > 0 ? places[0]!.some((p) => places[1]!.some((q) => p.includes(q) || q.includes(p))) : null;
  if (samePlace === false && !(postal[0] && postal[0] === postal[1])) return 0;
  const sameRate = a.rate_min != null && b.rate_min != null ? a.rate_min === b.rate_min && a.rate_max === b.rate_max : null;
  return (
    1 + (same(...subjects) ? 1 : 0) + (same(...levels) ? 1 : 0) + (postal[0] && postal[0] === postal[1] ? 1 : 0) + (samePlace ? 1 : 0) + (sameRate ? 1 : 0)
  );
}

const shapeOf = (item: AssignmentInput): JobShape => {
  const row = buildContentRow(item);
  return {
    subjects_canonical: row.subjects_canonical as string[] | null,
    specific_levels: row.specific_levels as string[] | null,
    levels: row.levels as string[] | null,
    postal_code: row.postal_code as string[] | null,
    address: row.address as string[] | null,
    rate_min: row.rate_min as number | null,
    rate_max: row.rate_max as number | null,
  };
};

/**
 * Which stored assignment each item of an edited post is. Items are keyed by their code, else their position
 * ('' for a single post), and an edit can shift positions: a compilation that loses its first job, a single post
 * that gains a second. Matched by position alone, the remaining job would be inserted again (and announced and
 * DMed twice) while the removed one stayed open. So: an item with a code keeps its key; the others are matched to
 * the post's stored items by content (subjects and levels overlap, no conflicting postal code; best pairs first)
 * and take the matched item's key; an unmatched item gets a key no stored item of the post has. A post whose
 * single item stays single keeps the old behaviour (its one assignment is updated, whatever changed).
 */
export async function identifyItems(db: Queryable, rawId: number, items: readonly AssignmentInput[]): Promise<ItemIdentity> {
  const stored = await db.query<StoredItem>(
    `select s.assignment_id, s.item_key, a.status, a.subjects_canonical, a.specific_levels, a.levels, a.postal_code, a.address,
            a.rate_min::float8 as rate_min, a.rate_max::float8 as rate_max
       from assignment_sources s join assignments a on a.id = s.assignment_id
      where s.raw_id = $1 and a.raw_id = $1
      order by s.item_key`,
    [rawId],
  );
  const keys = items.map((i) => i.itemKey);
  if (stored.length === 0) return { keys, dropped: [] };
  if (items.length === 1 && stored.length === 1 && items[0]!.itemKey === '' && stored[0]!.item_key === '') return { keys, dropped: [] };

  const shapes = items.map(shapeOf);
  const taken = new Set<string>();
  const matched = new Set<number>();
  const coded = (i: AssignmentInput) => Boolean(i.meta?.item_code);
  items.forEach((item, n) => {
    if (!coded(item)) return;
    const s = stored.find((x) => x.item_key === item.itemKey);
    if (s) {
      taken.add(s.item_key);
      matched.add(n);
    }
  });
  const pairs: { n: number; s: StoredItem; score: number }[] = [];
  items.forEach((item, n) => {
    if (matched.has(n)) return;
    for (const s of stored) {
      if (taken.has(s.item_key)) continue;
      const score = likeness(shapes[n]!, s);
      if (score > 0) pairs.push({ n, s, score: score + (s.item_key === item.itemKey ? 0.5 : 0) });
    }
  });
  pairs.sort((a, b) => b.score - a.score || a.n - b.n);
  for (const p of pairs) {
    if (matched.has(p.n) || taken.has(p.s.item_key)) continue;
    keys[p.n] = p.s.item_key;
    taken.add(p.s.item_key);
    matched.add(p.n);
  }
  const storedKeys = new Set(stored.map((s) => s.item_key));
  items.forEach((item, n) => {
    if (matched.has(n)) return;
    let key = item.itemKey || String(n + 1);
    for (let k = 2; storedKeys.has(key) || taken.has(key); k++) key = `${item.itemKey || String(n + 1)}.${k}`;
    keys[n] = key;
    taken.add(key);
  });
  const dropped = stored.filter((s) => !taken.has(s.item_key) && s.status === 'open').map((s) => Number(s.assignment_id));
  return { keys, dropped: [...new Set(dropped)] };
}

/** Close assignments whose job the agency removed from its post (identifyItems' `dropped`). */
export async function closeDropped(db: Queryable, ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<{ id: number }>(
    `update assignments set status = 'closed', closed_reason = 'closed_notice', closed_at = now(), updated_at = now()
      where id = any($1::bigint[]) and status = 'open' returning id`,
    [ids],
  );
  return rows.map((r) => Number(r.id));
}

/**
 * After an edit, the post stands only for the items it has now: a link from it to a job that has moved to the
 * agency's re-post and is no item of the edited text any more goes, so a later "Taken" under this post (or it
 * reading as closed) cannot close that job.
 */
export async function unlinkMovedItems(db: Queryable, rawId: number, keys: readonly string[]): Promise<number> {
  const rows = await db.query<{ assignment_id: number }>(
    `delete from assignment_sources s using assignments a
      where s.raw_id = $1 and a.id = s.assignment_id and a.raw_id is distinct from $1 and not (s.item_key = any($2::text[]))
     returning s.assignment_id`,
    [rawId, keys],
  );
  return rows.length;
}
