import { effectiveSettings, redactUrl, type Config } from '../config/index.ts';
import { migrate, openDatabase, type OpenedDatabase } from '../db/index.ts';
import { JOB_STATUSES, stats, type QueueStatsRow } from '../queue/index.ts';
import { ago, table } from './format.ts';

export type Print = (text: string) => void;

export async function withDatabase<T>(config: Config, fn: (db: OpenedDatabase) => Promise<T>): Promise<T> {
  const db = await openDatabase(config.database);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

export async function dbMigrate(config: Config, print: Print): Promise<void> {
  const db = await openDatabase(config.database, { migrate: false });
  try {
    const result = await migrate(db);
    if (result.applied.length === 0) print(`schema is up to date (migration ${result.current}) in ${db.location}`);
    for (const m of result.applied) print(`applied ${String(m.version).padStart(3, '0')}_${m.name}`);
    if (result.applied.length > 0) print(`schema is at migration ${result.current} in ${db.location}`);
  } finally {
    await db.close();
  }
}

export function formatQueueStats(rows: QueueStatsRow[], now = Date.now()): string {
  if (rows.length === 0) return 'queue is empty (no extraction jobs yet)';
  const versions = [...new Set(rows.map((r) => r.pipelineVersion))];
  const body = versions.map((version) => {
    const counts = JOB_STATUSES.map((s) => rows.find((r) => r.pipelineVersion === version && r.status === s)?.count ?? 0);
    const oldestPending = rows.find((r) => r.pipelineVersion === version && r.status === 'pending')?.oldestCreatedAt ?? null;
    return [version, ...counts, counts.reduce((a, b) => a + b, 0), ago(oldestPending, now)];
  });
  return table(['pipeline_version', ...JOB_STATUSES, 'total', 'oldest pending'], body);
}

export async function queueStats(config: Config, print: Print, options: { version?: string; json?: boolean }): Promise<void> {
  await withDatabase(config, async (db) => {
    const rows = await stats(db, options.version);
    print(options.json ? JSON.stringify(rows, null, 2) : formatQueueStats(rows));
  });
}

export function showConfig(config: Config, print: Print, options: { json?: boolean }): void {
  const settings = effectiveSettings(config);
  const database =
    config.database.kind === 'pglite'
      ? `embedded PGlite in ${config.database.dataDir}`
      : `Postgres via ${config.database.source} (${redactUrl(config.database.url)})`;
  if (options.json) {
    print(JSON.stringify({ database, envFile: config.env.envFile, notes: config.notes, settings }, null, 2));
    return;
  }
  print(`database: ${database}`);
  print(`env file: ${config.env.envFile ?? '(none)'}`);
  print(`extraction mode: ${config.extractionMode}`);
  for (const note of config.notes) print(`note: ${note}`);
  print('');
  print(
    table(
      ['variable', 'value', 'source'],
      settings.map((s) => [s.name, s.value, s.source]),
    ),
  );
}
