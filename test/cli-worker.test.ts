import { describe, expect, it } from 'vitest';
import { cliWorkspace, seedFixturePosts } from './support/cli.ts';

describe('tutordex worker / expire / start (embedded database)', () => {
  it('Mode 4 from the command line: --oneshot --max-jobs 3 --no-broadcast --no-dms → exactly 3, exit 0', async () => {
    const ws = cliWorkspace({ EXTRACTION_PIPELINE_VERSION: 'v1' });
    expect((await ws.run(['db', 'migrate'])).code).toBe(0);
    await seedFixturePosts(ws.env.TUTORDEX_DATA_DIR!, 7, { channel: 't.me/cocoassignments', enqueueVersion: 'v1' });
    const r = await ws.run(['worker', '--oneshot', '--max-jobs', '3', '--no-broadcast', '--no-dms']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^worker max_jobs: claimed=3 ok=\d skipped=\d failed=0 retried=0 released=0 · version=v1 \(live\) · broadcast=off dms=off$/);
    const q = await ws.run(['queue', 'stats', '--json']);
    const counts = Object.fromEntries((JSON.parse(q.out) as { status: string; count: number }[]).map((row) => [row.status, row.count]));
    expect(counts.pending).toBe(4);
    expect(counts.processing).toBeUndefined();
    const rest = await ws.run(['worker', '--oneshot', '--no-broadcast', '--no-dms']);
    expect(rest.out).toMatch(/^worker drained: claimed=4 /);
  });

  it('side effects never turn on by themselves; asking without a bot token is a clear configuration error', async () => {
    const ws = cliWorkspace({ EXTRACTION_PIPELINE_VERSION: 'v1' });
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['worker', '--oneshot', '--broadcast'], {}, /^tutordex: broadcasting \(EXTRACTION_WORKER_BROADCAST \/ --broadcast\) needs TELEGRAM_BOT_TOKEN/],
      [['worker', '--oneshot'], { EXTRACTION_WORKER_DMS: '1' }, /^tutordex: DMs \(EXTRACTION_WORKER_DMS \/ --dms\) needs TELEGRAM_BOT_TOKEN/],
      [['worker', '--oneshot', '--broadcast'], { TELEGRAM_BOT_TOKEN: '123:secret-token' }, /^tutordex: broadcasting needs BROADCAST_CHAT_ID/],
      [['worker', '--max-jobs', '0'], {}, /--max-jobs must be between 1 and/],
      [['worker', '--mode', 'gpt'], {}, /--mode must be llm or rules/],
      [['worker', '--concurrency', 'lots'], {}, /--concurrency must be a whole number/],
    ];
    for (const [argv, env, message] of cases) {
      const r = await ws.run(argv, env);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err.split('\n')[0]).toMatch(message);
      expect(r.err).not.toContain('secret-token');
    }
    // a bot token alone (the earlier system's trigger) turns nothing on
    const quiet = await ws.run(['worker', '--oneshot'], { TELEGRAM_BOT_TOKEN: '123:secret-token', BROADCAST_CHAT_ID: '@tutordex_test' });
    expect(quiet.code).toBe(0);
    expect(quiet.out).toContain('broadcast=off dms=off');
  });

  it('expire --dry-run counts, expire expires', async () => {
    const ws = cliWorkspace({ EXTRACTION_PIPELINE_VERSION: 'v1' });
    expect((await ws.run(['db', 'migrate'])).code).toBe(0);
    const dry = await ws.run(['expire', '--dry-run']);
    expect(dry).toMatchObject({ code: 0, out: 'would expire 0 assignment(s) older than 168 h' });
    const real = await ws.run(['expire']);
    expect(real.out).toBe('expired 0 · re-tiered 0 · broadcast edits queued 0 · broadcast deletes queued 0');
  });

  it('start replays the bundled sample feed through collector and worker and shows a live summary', async () => {
    const ws = cliWorkspace({ EXTRACTION_PIPELINE_VERSION: 'v1' });
    const r = await ws.run(['start', '--replay-interval', '0', '--exit-when-idle', '--port', '0']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('source: bundled sample feed: 16 sample channels (t.me/sample_…), 77 real agency posts; nothing is sent');
    expect(r.out).toContain('worker: rules extraction, version v1, broadcast off, DMs off');
    const last = r.out.split('\n').at(-1)!;
    expect(last).toMatch(/^stopped · raw 77 · queue pending 0 processing 0 ok \d+ skipped \d+ failed 0 · open assignments \d+ · delivered 0/);
    const open = Number(/open assignments (\d+)/.exec(last)![1]);
    expect(open).toBeGreaterThan(50);
    expect(r.err).toMatch(/raw \d+ · queue pending/); // the periodic one-line summary
  }, 60_000);
});
