export type { Database, Queryable, Unsubscribe } from './types.ts';
export { parseInt8 } from './types.ts';
export { openDatabase, type OpenOptions, type OpenedDatabase } from './open.ts';
export { openPglite, type PgliteDatabase, type PgliteOptions } from './pglite.ts';
export { openPostgres, type PostgresOptions } from './postgres.ts';
export { migrate, loadMigrations, type Migration, type MigrateResult } from './migrate.ts';
export { retryTransient, isTransientDbError, type RetryOptions } from './retry.ts';
