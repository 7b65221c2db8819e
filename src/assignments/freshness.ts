import type { Queryable } from '../db/index.ts';
import type { FreshnessPolicy } from './types.ts';

export type FreshnessTier = 'green' | 'yellow' | 'orange' | 'red';

/** Tier from the age of the source post (not processing time: a reparse never makes a post look fresh). */
export function freshnessTier(ageHours: number, policy: FreshnessPolicy): FreshnessTier {
  if (ageHours < policy.greenHours) return 'green';
  if (ageHours < policy.yellowHours) return 'yellow';
  if (ageHours < policy.orangeHours) return 'orange';
  return 'red';
}

export interface FreshnessResult {
  /** open assignments whose tier changed */
  retiered: number[];
  /** open assignments that became expired */
  expired: number[];
}

/**
 * Re-tier every open assignment by the age of its source (`source_last_seen`, not processing time) and expire the
 * ones older than expireHours. Cheap enough to run every few minutes: it only writes rows whose tier or status
 * changes.
 */
export async function refreshFreshness(db: Queryable, policy: FreshnessPolicy, now = new Date(), options: { dryRun?: boolean } = {}): Promise<FreshnessResult> {
  const age = `extract(epoch from ($1::timestamptz - coalesce(source_last_seen, published_at, created_at))) / 3600`;
  const at = now.toISOString();
  if (options.dryRun) {
    const [r] = await db.query<{ expired: number[] | null }>(
      `select array_agg(id order by id) as expired from assignments where status = 'open' and ${age} >= $2::float8`,
      [at, policy.expireHours],
    );
    return { retiered: [], expired: r?.expired ?? [] };
  }
  const expired = await db.query<{ id: number }>(
    `update assignments set status = 'expired', closed_reason = 'expired', closed_at = $1::timestamptz, freshness_tier = 'red', updated_at = now()
      where status = 'open' and ${age} >= $2::float8
      returning id`,
    [at, policy.expireHours],
  );
  const retiered = await db.query<{ id: number }>(
    `with t as (
       select id, case when ${age} < $2::float8 then 'green' when ${age} < $3::float8 then 'yellow'
                       when ${age} < $4::float8 then 'orange' else 'red' end as tier
         from assignments where status = 'open'
     )
     update assignments a set freshness_tier = t.tier, updated_at = now()
       from t where a.id = t.id and a.freshness_tier is distinct from t.tier
     returning a.id`,
    [at, policy.greenHours, policy.yellowHours, policy.orangeHours],
  );
  return { retiered: retiered.map((r) => r.id), expired: expired.map((r) => r.id) };
}
