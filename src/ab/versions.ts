import { liveVersions } from '../assignments/index.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { UserError } from '../errors.ts';

export interface VersionInfo {
  version: string;
  live: boolean;
  jobs: number;
  byStatus: Record<string, number>;
  firstProcessedAt: Date | null;
  lastProcessedAt: Date | null;
  models: string[];
  promptFingerprints: string[];
  examplesFingerprints: string[];
}

/** Every pipeline version in the queue with its counts, processing window and fingerprints; the live one marked. */
export async function listVersions(db: Database, config: Config): Promise<VersionInfo[]> {
  const rows = await db.query<{
    version: string;
    jobs: number;
    by_status: Record<string, number>;
    first_at: Date | null;
    last_at: Date | null;
    models: string[] | null;
    prompts: string[] | null;
    examples: string[] | null;
  }>(
    `with s as (
       select pipeline_version, status, count(*)::int as n from telegram_extractions group by pipeline_version, status
     ), v as (
       select pipeline_version, sum(n)::int as jobs, jsonb_object_agg(status, n) as by_status from s group by pipeline_version
     )
     select v.pipeline_version as version, v.jobs, v.by_status,
            (select min(updated_at) from telegram_extractions e where e.pipeline_version = v.pipeline_version and e.status in ('ok', 'skipped', 'failed')) as first_at,
            (select max(updated_at) from telegram_extractions e where e.pipeline_version = v.pipeline_version and e.status in ('ok', 'skipped', 'failed')) as last_at,
            (select array_agg(distinct e.llm_model order by e.llm_model) from telegram_extractions e where e.pipeline_version = v.pipeline_version and e.llm_model is not null) as models,
            (select array_agg(distinct e.meta #>> '{extractor,prompt,sha256}') from telegram_extractions e
              where e.pipeline_version = v.pipeline_version and e.meta #>> '{extractor,prompt,sha256}' is not null) as prompts,
            (select array_agg(distinct e.meta #>> '{extractor,examples,sha256}') from telegram_extractions e
              where e.pipeline_version = v.pipeline_version and e.meta #>> '{extractor,examples,sha256}' is not null) as examples
       from v order by last_at desc nulls last, version`,
  );
  const live = await liveVersions(db, config.pipelineVersion);
  return rows.map((r) => ({
    version: r.version,
    live: live.has(r.version),
    jobs: r.jobs,
    byStatus: r.by_status,
    firstProcessedAt: r.first_at,
    lastProcessedAt: r.last_at,
    models: r.models ?? [],
    promptFingerprints: r.prompts ?? [],
    examplesFingerprints: r.examples ?? [],
  }));
}

/**
 * Delete one version's queue rows (never raw messages, never assignments). Refuses the live version and an
 * unknown one. Without `confirm` it only counts. Returns the number of rows (to be) deleted.
 */
export async function pruneVersion(db: Database, config: Config, version: string, confirm: boolean): Promise<number> {
  const live = await liveVersions(db, config.pipelineVersion);
  if (live.has(version)) throw new UserError(`${version} is the live pipeline version; it cannot be pruned (switch EXTRACTION_PIPELINE_VERSION first)`);
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from telegram_extractions where pipeline_version = $1', [version]);
  const n = row?.n ?? 0;
  if (n === 0) throw new UserError(`no pipeline version ${version} in the queue (tutordex versions list shows them)`);
  if (!confirm) return n;
  const deleted = await db.query<{ id: number }>('delete from telegram_extractions where pipeline_version = $1 returning id', [version]);
  return deleted.length;
}
