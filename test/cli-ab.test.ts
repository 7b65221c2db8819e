import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliWorkspace, seedFixturePosts } from './support/cli.ts';

describe('tutordex ab / versions (embedded database)', () => {
  it('ab run → reports; versions list; prune refuses the live version, counts without --yes, deletes with it', async () => {
    const ws = cliWorkspace({ EXTRACTION_PIPELINE_VERSION: 'live1' });
    expect((await ws.run(['db', 'migrate'])).code).toBe(0);
    await seedFixturePosts(ws.env.TUTORDEX_DATA_DIR!, 12);
    expect((await ws.run(['enqueue', '--channels', 't.me/cocoassignments,t.me/eduaidtuition,t.me/ezpz_tuition'])).code).toBe(0);
    expect((await ws.run(['worker', '--oneshot'])).code).toBe(0);

    const r = await ws.run(['ab', 'run', '--a', 'exp-a', '--b', 'exp-b', '--gold', path.resolve('test/fixtures/message_examples'), '--out', 'out']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^exp-a: extracted 12 \(ok \d+, skipped \d+, failed 0\)\nexp-b: extracted 12 /);
    expect(r.out).toContain('compared exp-a and exp-b: 12 messages in both');
    expect(r.err).toMatch(/A exp-a: 12 messages in the window, 12 to extract · rules/);
    const summary = JSON.parse(readFileSync(path.join(ws.dir, 'out', 'summary.json'), 'utf8'));
    expect(summary.counts.intersection).toBe(12);
    for (const f of ['side_by_side.csv', 'report.html']) expect(existsSync(path.join(ws.dir, 'out', f))).toBe(true);

    const list = await ws.run(['versions', 'list']);
    expect(list.out).toMatch(/live1\s+live\s+12/);
    expect(list.out).toMatch(/exp-a\s+12/);

    const live = await ws.run(['versions', 'prune', 'live1', '--yes']);
    expect(live).toMatchObject({ code: 1 });
    expect(live.err).toMatch(/^tutordex: live1 is the live pipeline version; it cannot be pruned/);
    const dry = await ws.run(['versions', 'prune', 'exp-a']);
    expect(dry.code).toBe(1);
    expect(dry.err).toBe('tutordex: would delete 12 job row(s) of exp-a; run again with --yes to delete them');
    const gone = await ws.run(['versions', 'prune', 'exp-a', '--yes']);
    expect(gone).toMatchObject({ code: 0, out: 'deleted 12 job row(s) of exp-a (raw messages and assignments untouched)' });
    const json = JSON.parse((await ws.run(['versions', 'list', '--json'])).out) as { version: string }[];
    expect(json.map((v) => v.version).sort()).toEqual(['exp-b', 'live1']);
  }, 60_000);

  it('bad input: one line, non-zero exit, nothing written', async () => {
    const ws = cliWorkspace({ EXTRACTION_PIPELINE_VERSION: 'live1' });
    expect((await ws.run(['db', 'migrate'])).code).toBe(0);
    await seedFixturePosts(ws.env.TUTORDEX_DATA_DIR!, 3);
    writeFileSync(path.join(ws.dir, 'db.env'), 'DATABASE_URL=postgres://elsewhere/x\n');
    const cases: [string[], number, RegExp][] = [
      [['ab', 'run', '--a', 'live1', '--b', 'x'], 1, /^tutordex: --a live1 is the live pipeline version/],
      [['ab', 'run', '--a', 'x', '--b', 'x'], 1, /^tutordex: --a and --b must be different versions$/],
      [['ab', 'run', '--a', 'x', '--b', 'y', '--a-env', 'nope.env'], 1, /^tutordex: --a-env: nope.env does not exist$/],
      [['ab', 'run', '--a', 'x', '--b', 'y', '--b-env', 'db.env'], 1, /^tutordex: --b-env: .*sets DATABASE_URL/],
      [
        ['ab', 'run', '--a', 'x', '--b', 'y', '--since', '2020-01-01T00:00:00Z', '--until', '2020-01-02T00:00:00Z'],
        1,
        /^tutordex: the window holds no raw messages/,
      ],
      [['ab', 'run', '--a', 'x', '--b', 'y', '--since', 'yesterday'], 2, /^tutordex: --since/],
      [['ab', 'run', '--a', 'x'], 2, /required option '--b <version>' not specified/],
      [['ab', 'compare', '--a', 'nope', '--b', 'live1'], 1, /^tutordex: --a: no pipeline version nope in the queue/],
      [['ab', 'compare', '--a', 'x', '--b', 'y', '--gold', 'missing-dir'], 1, /^tutordex: --a: no pipeline version x/],
      [['versions', 'prune', 'nope', '--yes'], 1, /^tutordex: no pipeline version nope in the queue/],
    ];
    for (const [argv, code, message] of cases) {
      const r = await ws.run(argv);
      expect(r.code, argv.join(' ')).toBe(code);
      expect(r.err.split('\n')[0], argv.join(' ')).toMatch(message);
    }
    expect(JSON.parse((await ws.run(['queue', 'stats', '--json'])).out)).toEqual([]); // nothing enqueued by any of them
  }, 60_000);
});
