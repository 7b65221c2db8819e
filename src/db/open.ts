import type { DatabaseTarget } from '../config/index.ts';
import { redactUrl } from '../config/index.ts';
import { migrate, type MigrateResult } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';
import type { Database } from './types.ts';

export interface OpenOptions {
  /** Apply pending migrations (default true: every command that touches the database does). */
  migrate?: boolean;
  /** Postgres pool size. */
  poolSize?: number;
}

/** A database handle plus what opening it migrated (null when migration was not requested). */
export type OpenedDatabase = Database & { migration: MigrateResult | null };

export async function openDatabase(target: DatabaseTarget, options: OpenOptions = {}): Promise<OpenedDatabase> {
  const db =
    target.kind === 'pglite'
      ? await openPglite({ dataDir: target.dataDir })
      : await openPostgres({ url: target.url, label: redactUrl(target.url), max: options.poolSize ?? 10 });
  let migration: MigrateResult | null = null;
  if (options.migrate !== false) {
    try {
      migration = await migrate(db);
    } catch (err) {
      await db.close();
      throw err;
    }
  }
  return Object.assign(db, { migration });
}
