import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';
import type { Database } from './types.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: Migration[];
  /** Highest version recorded after the run. */
  current: number;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
// Arbitrary constant: every migrating process takes this advisory lock, so two processes never apply the same file.
const MIGRATION_LOCK = 7_310_452_118;

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((file) => {
      const m = /^(\d+)_([a-z0-9_]+)\.sql$/.exec(file);
      if (!m) throw new Error(`migration file name must look like 001_name.sql: ${file}`);
      const sql = readFileSync(`${dir}/${file}`, 'utf8');
      return { version: Number(m[1]), name: m[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations must be numbered 1, 2, 3… without gaps; found ${m.version} at position ${i + 1}`);
  });
  return migrations;
}

/**
 * Apply every migration the database has not seen, in order, each in its own transaction, and record it in
 * `schema_migrations`. Running it again changes nothing. A database migrated by a newer TutorDex is refused.
 */
export async function migrate(db: Database, migrations: Migration[] = loadMigrations()): Promise<MigrateResult> {
  await db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(`create table if not exists schema_migrations (
      version integer primary key,
      name text not null,
      checksum text not null,
      applied_at timestamptz not null default now()
    )`);
  });
  const [top] = await db.query<{ version: number; name: string }>('select version, name from schema_migrations order by version desc limit 1');
  if (top && top.version > migrations.length) {
    throw new UserError(
      `the database schema is at migration ${top.version} (${top.name}) but this TutorDex knows only up to ${migrations.length}; upgrade TutorDex before using this database`,
    );
  }
  const applied: Migration[] = [];
  for (const migration of migrations) {
    const done = await db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const [row] = await tx.query('select 1 from schema_migrations where version = $1', [migration.version]);
      if (row) return false;
      await tx.exec(migration.sql);
      await tx.query('insert into schema_migrations (version, name, checksum) values ($1, $2, $3)', [migration.version, migration.name, migration.checksum]);
      return true;
    });
    if (done) applied.push(migration);
  }
  const [row] = await db.query<{ v: number | null }>('select max(version) as v from schema_migrations');
  return { applied, current: row?.v ?? 0 };
}
