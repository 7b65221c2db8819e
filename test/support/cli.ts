import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { runCli, type CliIO } from '../../src/cli/main.ts';
import { openPglite } from '../../src/db/index.ts';
import { EXAMPLES } from './assignments.ts';
import { assertNoSecrets } from './secrets.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A scratch directory with its own embedded database, and `run(argv)` calling the CLI in-process. */
export function cliWorkspace(env: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-cli-'));
  dirs.push(dir);
  const base: Record<string, string> = { TUTORDEX_DATA_DIR: path.join(dir, 'db'), LOG_LEVEL: 'silent', ...env };
  /** `io` adds or replaces parts of the CLI's surroundings: a Telegram source, an abort signal, an output tap. */
  const run = async (argv: string[], extraEnv: Record<string, string> = {}, io: Partial<CliIO> = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const cli: CliIO = {
      errStream: { write: (t: string) => err.push(t) },
      env: { ...base, ...extraEnv },
      cwd: dir,
      ...io,
      out: (t) => {
        out.push(t);
        io.out?.(t);
      },
      err: (t) => {
        err.push(t);
        io.err?.(t);
      },
    };
    const code = await runCli(argv, cli);
    assertNoSecrets(`tutordex ${argv.join(' ')}`, `${out.join('\n')}\n${err.join('\n')}`);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  return { dir, env: base, run };
}

/** Store the first `n` fixture posts as raw messages of their own channels (fresh: minutes old). */
export async function seedFixturePosts(dataDir: string, n: number, options: { channel?: string; enqueueVersion?: string } = {}): Promise<void> {
  const db = await openPglite({ dataDir });
  try {
    for (const [i, e] of EXAMPLES.slice(0, n).entries()) {
      await db.query(
        `insert into telegram_messages_raw (channel_link, message_id, message_date, raw_text, message_json)
         values ($1, $2::bigint, now() - interval '1 hour' + make_interval(secs => $2::int), $3, '{}')`,
        [options.channel ?? e.channelLink ?? 't.me/agency', i + 1, e.raw],
      );
    }
    if (options.enqueueVersion) await db.query(`select enqueue_raw_ids($1, array(select id from telegram_messages_raw), false)`, [options.enqueueVersion]);
  } finally {
    await db.close();
  }
}
