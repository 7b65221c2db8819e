import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, inject } from 'vitest';
import { openPglite, openPostgres, type Database } from '../../src/db/index.ts';

export type Driver = 'pglite' | 'postgres';

export interface TestDatabase {
  readonly driver: Driver;
  /** The database of this file (fresh tables before every test). */
  readonly db: Database;
  /** Postgres only: a connection string to this file's database, for extra connections or child processes. */
  readonly url: string | null;
  /** Another handle on this file's database (Postgres: a new pool; PGlite: not possible, one owner). */
  connect(max?: number): Promise<Database>;
}

/** Every table the migrations made but their own bookkeeping: a new table can never leak state between tests. */
async function dataTables(db: { query<T>(sql: string): Promise<T[]> }): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `select quote_ident(tablename) as name from pg_tables where schemaname = current_schema() and tablename <> 'schema_migrations' order by tablename`,
  );
  if (rows.length === 0) throw new Error('no tables to reset: were the migrations applied?');
  return rows.map((r) => r.name);
}

let counter = 0;

async function createPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = inject('postgresAdminUrl')!;
  const template = inject('postgresTemplate')!;
  const name = `${template}_${process.pid}_${++counter}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template ${template}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

export async function openTestDatabase(driver: Driver): Promise<{ handle: TestDatabase; close: () => Promise<void> }> {
  if (driver === 'pglite') {
    const blob = new Blob([readFileSync(inject('pgliteTemplate'))]);
    const db = await openPglite({ dataDir: null, loadDataDir: blob });
    return {
      handle: {
        driver,
        db,
        url: null,
        connect: () => Promise.reject(new Error('PGlite has a single owner; use db')),
      },
      close: () => db.close(),
    };
  }
  const { url, drop } = await createPostgresDatabase();
  const extra: Database[] = [];
  const db = await openPostgres({ url, label: 'test', max: 4 });
  return {
    handle: {
      driver,
      db,
      url,
      connect: async (max = 1) => {
        const d = await openPostgres({ url, label: 'test', max });
        extra.push(d);
        return d;
      },
    },
    close: async () => {
      for (const d of extra) await d.close().catch(() => {});
      await db.close();
      await drop();
    },
  };
}

export const postgresAvailable = (): boolean => inject('postgresTemplate') !== null;

/**
 * Run a suite once per database driver: embedded PGlite always, real Postgres when TEST_DATABASE_URL is set.
 * Each driver's suite gets its own database; every table is emptied before each test.
 */
export function describeEachDatabase(title: string, body: (t: TestDatabase) => void): void {
  describeOn(['pglite', 'postgres'], title, body);
}

/** A suite that only makes sense on real Postgres (several connections, psql); skipped without TEST_DATABASE_URL. */
export function describePostgres(title: string, body: (t: TestDatabase) => void): void {
  describeOn(['postgres'], title, body);
}

function describeOn(drivers: Driver[], title: string, body: (t: TestDatabase) => void): void {
  for (const driver of drivers) {
    const run = driver === 'pglite' || postgresAvailable();
    describe.skipIf(!run)(`${title} [${driver}]`, () => {
      let opened: Awaited<ReturnType<typeof openTestDatabase>> | null = null;
      const handle: TestDatabase = {
        driver,
        get db() {
          if (!opened) throw new Error('database not open yet');
          return opened.handle.db;
        },
        get url() {
          return opened?.handle.url ?? null;
        },
        connect: (max) => opened!.handle.connect(max),
      };
      let tables: string[] | null = null;
      beforeAll(async () => {
        opened = await openTestDatabase(driver);
      });
      afterAll(async () => {
        await opened?.close();
      });
      beforeEach(async () => {
        tables ??= await dataTables(opened!.handle.db);
        await opened!.handle.db.exec(`truncate ${tables.join(', ')} restart identity cascade`);
      });
      body(handle);
    });
  }
}
