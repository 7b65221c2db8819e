import postgres from 'postgres';
import { UserError } from '../errors.ts';
import { parseInt8, type Database, type Queryable } from './types.ts';

export interface PostgresOptions {
  url: string;
  /** Connection pool size. */
  max?: number;
  /** Shown in messages instead of the URL (which may hold a password). */
  label: string;
}

function wrap(sql: postgres.Sql | postgres.TransactionSql): Queryable {
  return {
    async query<T>(text: string, params?: readonly unknown[]) {
      // postgres.js serialises a bound string again for jsonb, so callers pass objects; see Queryable.query.
      const rows = await sql.unsafe(text, (params ?? []) as postgres.ParameterOrJSON<never>[], { prepare: true });
      return rows as unknown as T[];
    },
    async exec(text: string) {
      await sql.unsafe(text);
    },
  };
}

export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const sql = postgres(options.url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connect_timeout: 10,
    // postgres.js waits before each reconnect; its default grows with every failed attempt of the whole pool
    // (3^n/100 s, up to 20 s), so after a Postgres restart a busy pool could sit idle for many seconds with the
    // server already back. Callers retry with their own backoff; keep the driver's wait short (≤ 2 s, jittered).
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 2),
    types: {
      int8: { to: 20, from: [20], serialize: (x: unknown) => String(x), parse: parseInt8 },
    },
    connection: { application_name: 'tutordex' },
  });
  try {
    await sql`select 1`;
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => {});
    const e = err as NodeJS.ErrnoException;
    throw new UserError(`cannot connect to Postgres at ${options.label}: ${e.code ? `${e.code} ` : ''}${e.message}`);
  }
  const base = wrap(sql);
  return {
    driver: 'postgres',
    location: options.label,
    query: base.query,
    exec: base.exec,
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) => sql.begin((tx) => fn(wrap(tx))) as Promise<T>,
    async listen(channel, onPayload) {
      const sub = await sql.listen(channel, onPayload);
      return () => sub.unlisten();
    },
    async notify(channel, payload) {
      await sql.notify(channel, payload);
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
