/**
 * A collector process for the kill -9 fault scenario: the real CLI (`runCli`) with Telegram replaced by an
 * in-memory source built from a JSON file of posts, paced so that a SIGKILL lands mid-run.
 *
 *   node --import tsx test/faults/support/collector-child.ts <posts.json> <backfill|live> [cli flags…]
 *
 * Environment: the usual TutorDex variables (DATABASE_URL, CHANNEL_LIST, …) plus
 *   FAULT_PAGE_SIZE / FAULT_PAGE_DELAY_MS   history pacing: a pause every PAGE_SIZE messages (per history call)
 *   FAULT_EDITED=1                          serve the edited text of posts that have one (an edit seen on rerun)
 * `live` runs until its catch-up has finished (state file status `ok`, written by this process), then stops
 * itself like SIGTERM would; the tail has nothing to do (no live events are pushed).
 */
import { readFileSync } from 'node:fs';
import { runCli, type CliIO } from '../../../src/cli/main.ts';
import { openDatabase } from '../../../src/db/index.ts';
import { makeMessage, MemorySource } from '../../../src/telegram/memory.ts';

export interface FaultPost {
  id: number;
  /** ISO date */
  date: string;
  text: string;
  /** when set, the text after an edit at `editDate` */
  editedText?: string;
  editDate?: string;
}

export interface FaultFeed {
  channels: { link: string; channelId: string; title: string; posts: FaultPost[] }[];
}

async function main(): Promise<number> {
  const [file, command, ...flags] = process.argv.slice(2);
  if (!file || (command !== 'backfill' && command !== 'live')) {
    process.stderr.write('usage: collector-child.ts <posts.json> <backfill|live> [flags…]\n');
    return 2;
  }
  const feed = JSON.parse(readFileSync(file, 'utf8')) as FaultFeed;
  const edited = process.env.FAULT_EDITED === '1';
  const pageSize = Number(process.env.FAULT_PAGE_SIZE ?? 50);
  const pageDelayMs = Number(process.env.FAULT_PAGE_DELAY_MS ?? 0);

  const source = new MemorySource();
  for (const c of feed.channels) {
    source.addChannel(
      { channelLink: c.link, channelId: c.channelId, title: c.title },
      c.posts.map((p) =>
        makeMessage({
          id: p.id,
          date: new Date(p.date),
          text: edited && p.editedText !== undefined ? p.editedText : p.text,
          editDate: edited && p.editDate !== undefined ? new Date(p.editDate) : null,
        }),
      ),
    );
  }
  // Telegram pages history (100 per request); pause between pages so the run takes a while.
  if (pageDelayMs > 0) {
    source.beforeYield = async (_link, _message, index) => {
      if (index > 0 && index % pageSize === 0) await new Promise((r) => setTimeout(r, pageDelayMs));
    };
  }

  const abort = new AbortController();
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => abort.abort());
  const started = Date.now();
  let watcher: NodeJS.Timeout | null = null;
  if (command === 'live') {
    // stop once this process's catch-up has finished (its run row is ok)
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL must be set for live');
    const watchDb = await openDatabase({ kind: 'postgres', url, source: 'DATABASE_URL' });
    let busy = false;
    watcher = setInterval(() => {
      if (busy) return;
      busy = true;
      void watchDb
        .query<{ status: string }>(`select status from ingestion_runs where run_type = 'catchup' and started_at >= $1 order by id desc limit 1`, [
          new Date(started - 1000),
        ])
        .then(([run]) => {
          if (run?.status === 'ok') abort.abort();
        })
        .catch(() => {})
        .finally(() => (busy = false));
    }, 50);
    abort.signal.addEventListener('abort', () => void watchDb.close().catch(() => {}), { once: true });
  }

  const io: CliIO = {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    errStream: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    signal: abort.signal,
    telegramSource: () => source,
  };
  try {
    return await runCli([command, ...flags], io);
  } finally {
    if (watcher) clearInterval(watcher);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`collector-child: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
