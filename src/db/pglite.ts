import { PGlite, types, type Transaction } from '@electric-sql/pglite';
import { UserError } from '../errors.ts';
import { lockDataDir, type EmbeddedLock } from './embedded-lock.ts';
import { parseInt8, type Database, type Queryable } from './types.ts';

const parsers = { [types.INT8]: (value: string) => parseInt8(value) };

function wrap(q: PGlite | Transaction, lock: EmbeddedLock | null): Queryable {
  return {
    async query<T>(sql: string, params?: readonly unknown[]) {
      lock?.assertHeld();
      const result = await q.query<T>(sql, params as unknown[] | undefined, { parsers });
      return result.rows;
    },
    async exec(sql: string) {
      lock?.assertHeld();
      await q.exec(sql);
    },
  };
}

export interface PgliteOptions {
  /** Directory for the data; null = in memory. */
  dataDir: string | null;
  /** Start from a dumped data directory (tests use a migrated template). */
  loadDataDir?: Blob;
}

export interface PgliteDatabase extends Database {
  /** The whole data directory as a blob (tests start many in-memory databases from one migrated template). */
  dump(): Promise<Blob>;
}

export async function openPglite(options: PgliteOptions): Promise<PgliteDatabase> {
  const lock = options.dataDir ? await lockDataDir(options.dataDir) : null;
  const release = () => lock?.release();
  let pg: PGlite;
  try {
    pg = await PGlite.create({
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
      parsers,
    });
  } catch (err) {
    release();
    throw new UserError(`cannot open the embedded database in ${options.dataDir ?? 'memory'}: ${(err as Error).message}`);
  }
  const base = wrap(pg, lock);
  let closed = false;
  return {
    driver: 'pglite',
    location: options.dataDir ?? 'memory://',
    query: base.query,
    exec: base.exec,
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx, lock))),
    async listen(channel, onPayload) {
      const unsubscribe = await pg.listen(channel, onPayload);
      return async () => {
        if (!closed) await unsubscribe();
      };
    },
    async notify(channel, payload) {
      await pg.query('select pg_notify($1, $2)', [channel, payload]);
    },
    dump: () => pg.dumpDataDir('none'),
    async close() {
      if (closed) return;
      closed = true;
      try {
        await pg.close();
      } finally {
        release();
      }
    },
  };
}
