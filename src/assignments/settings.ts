import type { Queryable } from '../db/index.ts';

/** The pipeline version whose worker writes the assignments projection ("live"); null before any live worker ran. */
export async function liveVersion(db: Queryable): Promise<string | null> {
  const [row] = await db.query<{ value: string }>(`select value #>> '{}' as value from tutordex_settings where key = 'live_pipeline_version'`);
  return row?.value ?? null;
}

/** Record the live version (a live worker does this on start). Returns the version it replaced, if different. */
export async function setLiveVersion(db: Queryable, version: string): Promise<string | null> {
  const before = await liveVersion(db);
  await db.query(
    `insert into tutordex_settings (key, value) values ('live_pipeline_version', to_jsonb($1::text))
     on conflict (key) do update set value = excluded.value, updated_at = now()`,
    [version],
  );
  return before !== null && before !== version ? before : null;
}

/**
 * Versions that count as live: the configured EXTRACTION_PIPELINE_VERSION and the one a live worker last
 * recorded (they differ while a version switch is rolling out).
 */
export async function liveVersions(db: Queryable, configuredVersion: string): Promise<Set<string>> {
  const recorded = await liveVersion(db);
  return new Set(recorded === null ? [configuredVersion] : [configuredVersion, recorded]);
}
