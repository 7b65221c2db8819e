import { refreshFreshness } from '../assignments/index.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { announceGroupTakeover, requestBroadcastSync } from '../delivery/index.ts';
import { metrics } from '../metrics/index.ts';

export interface MaintenanceResult {
  retiered: number;
  expired: number;
  broadcastEdits: number;
  broadcastDeletes: number;
}

/**
 * Freshness tiers and expiry from source time (`tutordex expire`, and every few minutes in a live worker):
 * re-tiered assignments get their broadcast edited (the freshness line), expired ones get it deleted.
 */
export async function runMaintenance(
  db: Database,
  config: Config,
  options: { now?: Date; touchBroadcasts: boolean; dryRun?: boolean },
): Promise<MaintenanceResult> {
  return db.transaction(async (tx) => {
    const r = await refreshFreshness(tx, config.assignments.freshness, options.now ?? new Date(), { dryRun: options.dryRun });
    let broadcastEdits = 0;
    let broadcastDeletes = 0;
    if (!options.dryRun) {
      metrics.assignmentsWritten.inc({ action: 'expired' }, r.expired.length);
      // a fresher copy of an expired job (another agency's, same duplicate group) takes its chats over, before
      // the expired one's unsent broadcasts are cancelled
      if (options.touchBroadcasts) await announceGroupTakeover(tx, r.expired);
      for (const id of r.expired) broadcastDeletes += await requestBroadcastSync(tx, id, 'delete');
      if (options.touchBroadcasts) for (const id of r.retiered) broadcastEdits += await requestBroadcastSync(tx, id, 'edit');
    }
    return { retiered: r.retiered.length, expired: r.expired.length, broadcastEdits, broadcastDeletes };
  });
}
