import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { PGlite, types, type Transaction } from '@electric-sql/pglite';
import { UserError } from '../errors.ts';
import { parseInt8, type Database, type Queryable } from './types.ts';

const LOCK_FILE = 'tutordex.lock';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite has no lock of its own: two processes opening one data directory silently lose committed writes.
 * Take an exclusive lock file (pid inside); a lock left by a dead process is taken over.
 */
function acquireLock(dataDir: string): () => void {
  const file = path.join(dataDir, LOCK_FILE);
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off('exit', release);
        try {
          unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
      process.on('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
      if (Number.isInteger(pid) && processAlive(pid)) {
        const who = pid === process.pid ? 'this process' : `process ${pid}`;
        throw new UserError(
          `the embedded database in ${dataDir} is already open in ${who}; only one process may use it (stop the other one, set another TUTORDEX_DATA_DIR, or share a real Postgres through DATABASE_URL)`,
        );
      }
      try {
        unlinkSync(file); // stale lock of a process that no longer exists
      } catch {
        /* raced with another opener; retry */
      }
    }
  }
  throw new UserError(`cannot lock the embedded database in ${dataDir}`);
}

const parsers = { [types.INT8]: (value: string) => parseInt8(value) };

function wrap(q: PGlite | Transaction): Queryable {
  return {
    async query<T>(sql: string, params?: readonly unknown[]) {
      const result = await q.query<T>(sql, params as unknown[] | undefined, { parsers });
      return result.rows;
    },
    async exec(sql: string) {
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
  let release: () => void = () => {};
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    release = acquireLock(options.dataDir);
  }
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
  const base = wrap(pg);
  let closed = false;
  return {
    driver: 'pglite',
    location: options.dataDir ?? 'memory://',
    query: base.query,
    exec: base.exec,
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
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
