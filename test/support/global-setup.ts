import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { migrate, openPglite, openPostgres } from '../../src/db/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    postgresTemplate: string | null;
    postgresAdminUrl: string | null;
  }
}

/**
 * Migrate once, copy per test file: an embedded template (a dumped PGlite data dir) and, when
 * TEST_DATABASE_URL is set, a Postgres template database that each file clones with CREATE DATABASE … TEMPLATE.
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-test-'));
  const pg = await openPglite({ dataDir: null });
  await migrate(pg);
  const file = path.join(dir, 'template.tar');
  writeFileSync(file, Buffer.from(await (await pg.dump()).arrayBuffer()));
  await pg.close();
  project.provide('pgliteTemplate', file);

  const adminUrl = process.env.TEST_DATABASE_URL?.trim() || null;
  let templateName: string | null = null;
  let admin: postgres.Sql | null = null;
  if (!adminUrl) {
    if (process.env.TUTORDEX_REQUIRE_POSTGRES === '1') {
      throw new Error('TUTORDEX_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set: the real-Postgres tests must run here');
    }
    process.stderr.write(
      '\nNOTE: TEST_DATABASE_URL is not set, so the real-PostgreSQL tests are SKIPPED (embedded PGlite only).\n' +
        '      Example: TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm test\n\n',
    );
  } else {
    templateName = `tutordex_tpl_${process.pid}_${Date.now()}`;
    admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${templateName}`);
    const url = new URL(adminUrl);
    url.pathname = `/${templateName}`;
    const db = await openPostgres({ url: url.toString(), label: templateName, max: 1 });
    await migrate(db);
    await db.close();
  }
  project.provide('postgresTemplate', templateName);
  project.provide('postgresAdminUrl', adminUrl);

  return async () => {
    rmSync(dir, { recursive: true, force: true });
    if (admin && templateName) {
      await admin.unsafe(`drop database if exists ${templateName} with (force)`);
      // databases of files that crashed before their own cleanup
      const leftovers = await admin.unsafe<{ datname: string }[]>(`select datname from pg_database where datname like $1`, [`${templateName}_%`]);
      for (const { datname } of leftovers) await admin.unsafe(`drop database if exists ${datname} with (force)`);
      await admin.end();
    }
  };
}
