import type { Queryable } from '../../db/index.ts';
import { LlmAssignmentSchema, type LlmAssignment } from '../schema.ts';
import type { ReuseStore } from './reuse.ts';

/** The reuse store shared by every worker on one database (table llm_reuse). */
export class DatabaseReuseStore implements ReuseStore {
  constructor(private readonly db: Queryable) {}

  async get(key: string): Promise<LlmAssignment | null> {
    const [row] = await this.db.query<{ value: unknown }>('update llm_reuse set hits = hits + 1, last_hit_at = now() where key = $1 returning value', [key]);
    const parsed = row ? LlmAssignmentSchema.safeParse(row.value) : null;
    return parsed?.success ? parsed.data : null; // a stored value that no longer fits the schema is a miss
  }

  async put(key: string, value: LlmAssignment): Promise<void> {
    await this.db.query('insert into llm_reuse (key, value) values ($1, $2::jsonb) on conflict (key) do update set value = excluded.value', [key, value]);
  }
}
