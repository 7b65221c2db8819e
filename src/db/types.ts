/** A connection or transaction that runs SQL. Rows come back with int8 as JS numbers on both drivers. */
export interface Queryable {
  /** One statement with `$n` parameters. Pass objects (not JSON strings) for json/jsonb parameters. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements, no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export type Unsubscribe = () => Promise<void>;

export interface Database extends Queryable {
  readonly driver: 'pglite' | 'postgres';
  /** Where the data lives, for messages (a directory, or a connection string with the password masked). */
  readonly location: string;
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  listen(channel: string, onPayload: (payload: string) => void): Promise<Unsubscribe>;
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The one place int8 values are normalised: PGlite hands back JS numbers, postgres.js strings. Ids, counts and
 * Telegram message ids all fit in 2^53; anything larger is refused rather than silently rounded.
 */
export function parseInt8(text: string | number | bigint): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${String(text)} does not fit in a JavaScript number`);
  return n;
}
