import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, openPglite, openPostgres, type Database } from '../src/db/index.ts';
import { UserError } from '../src/errors.ts';
import { describeEachDatabase, openTestDatabase, postgresAvailable } from './support/databases.ts';

/** Everything that makes up the schema, in a stable textual form. */
async function schemaOf(db: Database): Promise<string> {
  const columns = await db.query(
    `select table_name, column_name, data_type, is_nullable, column_default
       from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position`,
  );
  const indexes = await db.query(`select tablename, indexname, indexdef from pg_indexes where schemaname = 'public' order by indexname`);
  const constraints = await db.query(
    `select conrelid::regclass::text as tbl, conname, pg_get_constraintdef(oid) as def
       from pg_constraint where connamespace = 'public'::regnamespace order by conname`,
  );
  const functions = await db.query(
    `select p.proname, pg_get_function_identity_arguments(p.oid) as args, pg_get_function_result(p.oid) as result, md5(p.prosrc) as body
       from pg_proc p where p.pronamespace = 'public'::regnamespace order by p.proname`,
  );
  return JSON.stringify({ columns, indexes, constraints, functions }, null, 1);
}

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe('migrations on a fresh embedded database', () => {
  it('apply every file in order, record them, and a second run changes nothing', async () => {
    const db = await openPglite({ dataDir: null });
    try {
      const first = await migrate(db);
      const all = loadMigrations();
      expect(first.applied.map((m) => m.version)).toEqual(all.map((m) => m.version));
      expect(first.current).toBe(all.length);
      const before = await schemaOf(db);
      const second = await migrate(db);
      expect(second.applied).toEqual([]);
      expect(await schemaOf(db)).toBe(before);
      const recorded = await db.query<{ version: number; checksum: string }>('select version, checksum from schema_migrations order by version');
      expect(recorded).toEqual(all.map((m) => ({ version: m.version, checksum: m.checksum })));

      // and equals the schema of a database migrated elsewhere (the test template)
      const other = await openTestDatabase('pglite');
      expect(await schemaOf(other.handle.db)).toBe(before);
      await other.close();
    } finally {
      await db.close();
    }
  });

  it('refuses a database whose schema is newer than this code, with a clear message', async () => {
    const db = await openPglite({ dataDir: null });
    try {
      await migrate(db);
      await db.query(`insert into schema_migrations (version, name, checksum) values (999, 'from_the_future', 'x')`);
      const err = await migrate(db).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(/migration 999 \(from_the_future\).*knows only up to \d+; upgrade TutorDex/);
    } finally {
      await db.close();
    }
  });

  it('a failing migration is rolled back whole and not recorded', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-mig-'));
    tmpDirs.push(dir);
    const good = loadMigrations();
    for (const m of good) writeFileSync(path.join(dir, `${String(m.version).padStart(3, '0')}_${m.name}.sql`), m.sql);
    const next = String(good.length + 1).padStart(3, '0');
    writeFileSync(path.join(dir, `${next}_broken.sql`), 'create table half_done (id int);\nselect no_such_function();');
    const db = await openPglite({ dataDir: null });
    try {
      await expect(migrate(db, loadMigrations(dir))).rejects.toThrow(/no_such_function/);
      expect(await db.query(`select to_regclass('half_done') as t`)).toEqual([{ t: null }]);
      const [row] = await db.query<{ v: number }>('select max(version) as v from schema_migrations');
      expect(row!.v).toBe(good.length);
    } finally {
      await db.close();
    }
  });
});

describe.skipIf(!postgresAvailable())('migrations on a fresh Postgres database', () => {
  it('two connections migrating at once apply each file exactly once; the result equals the template', async () => {
    const fresh = await openTestDatabase('postgres');
    try {
      // empty this file's database (it was cloned from the migrated template) to start from nothing
      await fresh.handle.db.exec('drop schema public cascade; create schema public;');
      const a = await openPostgres({ url: fresh.handle.url!, label: 'a', max: 1 });
      const b = await openPostgres({ url: fresh.handle.url!, label: 'b', max: 1 });
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      expect(ra.applied.length + rb.applied.length).toBe(loadMigrations().length);
      const template = await openTestDatabase('postgres');
      expect(await schemaOf(a)).toBe(await schemaOf(template.handle.db));
      expect((await migrate(a)).applied).toEqual([]);
      await template.close();
      await a.close();
      await b.close();
    } finally {
      await fresh.close();
    }
  });
});

describeEachDatabase('drivers agree', (t) => {
  it('int8 comes back as a number and jsonb parameters are passed as objects', async () => {
    const [row] = await t.db.query<{ big: number; j: unknown; kind: string }>(
      `select 9007199254740991::bigint as big, $1::jsonb as j, jsonb_typeof($1::jsonb) as kind`,
      [{ a: [1, 'two'], b: null }],
    );
    expect(row).toEqual({ big: 9007199254740991, j: { a: [1, 'two'], b: null }, kind: 'object' });
    await expect(t.db.query(`select 9007199254740993::bigint as too_big`)).rejects.toThrow(/does not fit/);
  });

  it('transactions roll back on error', async () => {
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query(`insert into telegram_channels (channel_link) values ('t.me/rolled_back')`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await t.db.query(`select * from telegram_channels`)).toEqual([]);
  });

  it('listen receives notify', async () => {
    const got: string[] = [];
    const stop = await t.db.listen('tutordex_test', (p) => got.push(p));
    await t.db.notify('tutordex_test', 'hello');
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await stop();
    expect(got).toEqual(['hello']);
  });
});
