import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPglite } from '../src/db/index.ts';
import { createWebApp } from '../src/web/server.ts';
import { cliWorkspace } from './support/cli.ts';
import { workerConfig } from './support/worker.ts';

/**
 * The bad-input suite (issue 8 item 2): malformed environment values, flags, channel references, time windows,
 * export files, tutor files and HTTP query strings. Each one must give one clear line (no stack trace) and a
 * non-zero exit or a 4xx, and write nothing.
 */

type Case = { name: string; argv: string[]; env?: Record<string, string>; message: RegExp };

const ENV_CASES: [string, string][] = [
  ['EXTRACTION_WORKER_BATCH_SIZE', '0'],
  ['EXTRACTION_WORKER_BATCH_SIZE', 'ten'],
  ['EXTRACTION_WORKER_BATCH_SIZE', '1001'],
  ['EXTRACTION_WORKER_CONCURRENCY', '0'],
  ['EXTRACTION_WORKER_MAX_JOBS', '-1'],
  ['EXTRACTION_WORKER_IDLE_S', 'soon'],
  ['EXTRACTION_MAX_ATTEMPTS', '0'],
  ['EXTRACTION_BACKOFF_BASE_S', '-1'],
  ['EXTRACTION_STALE_PROCESSING_SECONDS', '1.5'],
  ['EXTRACTION_MODE', 'gpt'],
  ['EXTRACTION_WORKER_BROADCAST', 'maybe'],
  ['EXTRACTION_WORKER_DMS', '2'],
  ['EXTRACTION_QUEUE_ENABLED', 'yesno'],
  ['DATABASE_URL', 'mysql://root@localhost/db'],
  ['DATABASE_URL', 'not a url'],
  ['SUPABASE_DB_URL', 'https://project.supabase.co'],
  ['LLM_API_URL', 'ftp://models.local'],
  ['LLM_API_URL', 'localhost:1234'],
  ['LLM_TIMEOUT_SECONDS', '0'],
  ['LLM_MAX_TOKENS', '5'],
  ['LLM_CIRCUIT_BREAKER_THRESHOLD', '0'],
  ['LLM_INCLUDE_EXAMPLES', 'sometimes'],
  ['TELEGRAM_API_ID', 'abc'],
  ['TELEGRAM_API_ID', '-5'],
  ['TELEGRAM_BOT_API_URL', 'api.telegram.org'],
  ['BROADCAST_CHAT_ID', '@a'],
  ['BROADCAST_CHAT_ID', '[1, '],
  ['BROADCAST_CHAT_ID', '{"chat": 1}'],
  ['SIDE_EFFECT_MAX_AGE_HOURS', '-1'],
  ['BUMP_MIN_SECONDS', 'six hours'],
  ['FRESHNESS_GREEN_HOURS', 'abc'],
  ['ASSIGNMENT_EXPIRE_HOURS', '0'],
  ['DUPLICATE_MIN_SCORE', '0'],
  ['DUPLICATE_MIN_SCORE', '101'],
  ['DUPLICATE_DETECTION_ENABLED', 'nah'],
  ['DM_MAX_RECIPIENTS', '-5'],
  ['DELIVERY_MAX_ATTEMPTS', '0'],
  ['DELIVERY_SENDING_LEASE_SECONDS', 'forever'],
  ['METRICS_PORT', '70000'],
  ['LOG_LEVEL', 'loud'],
  ['CHANNEL_LIST', 'http://example.com/agency'],
  ['RECOVERY_CATCHUP_CHUNK_HOURS', '0'],
  ['RECOVERY_CATCHUP_CHECK_INTERVAL_SECONDS', '1'],
  ['RECOVERY_BACKFILL_MAX_ATTEMPTS', '0'],
];

const envCases: Case[] = ENV_CASES.map(([name, value]) => ({
  name: `${name}=${value}`,
  argv: ['config'],
  env: { [name]: value },
  message: new RegExp(`^tutordex: ${name}`),
}));

const flagCases: Case[] = [
  { name: 'unknown command', argv: ['launch'], message: /^error: unknown command 'launch'/ },
  { name: 'unknown option', argv: ['worker', '--turbo'], message: /^error: unknown option '--turbo'/ },
  { name: 'worker --max-jobs 0', argv: ['worker', '--max-jobs', '0'], message: /--max-jobs must be between 1/ },
  { name: 'worker --max-jobs x', argv: ['worker', '--max-jobs', 'x'], message: /--max-jobs must be a whole number/ },
  { name: 'worker --batch-size 0', argv: ['worker', '--batch-size', '0'], message: /--batch-size must be between 1 and 1000/ },
  { name: 'worker --concurrency 300', argv: ['worker', '--concurrency', '300'], message: /--concurrency must be between 1 and 256/ },
  { name: 'worker --mode gpt', argv: ['worker', '--mode', 'gpt'], message: /--mode must be llm or rules/ },
  { name: 'worker --broadcast without a bot', argv: ['worker', '--oneshot', '--broadcast'], message: /needs TELEGRAM_BOT_TOKEN/ },
  { name: 'backfill without channels', argv: ['backfill'], message: /no channels provided/ },
  { name: 'backfill --max-messages x', argv: ['backfill', '--channels', '@agency', '--max-messages', 'x'], message: /--max-messages must be a whole number/ },
  { name: 'backfill --batch-size 5', argv: ['backfill', '--channels', '@agency', '--batch-size', '5'], message: /--batch-size must be between 20/ },
  {
    name: 'backfill --channel-retries 0',
    argv: ['backfill', '--channels', '@agency', '--channel-retries', '0'],
    message: /--channel-retries must be between 1/,
  },
  { name: 'enqueue --page-size 10', argv: ['enqueue', '--channels', '@agency', '--page-size', '10'], message: /--page-size must be between 50/ },
  { name: 'tail without channels', argv: ['tail'], message: /no channels provided/ },
  { name: 'tutors add without --chat-id', argv: ['tutors', 'add', '--subjects', 'math', '--levels', 'p5'], message: /--chat-id/ },
  { name: 'tutors add --chat-id abc', argv: ['tutors', 'add', '--chat-id', 'abc', '--subjects', 'math', '--levels', 'p5'], message: /chat id/ },
  {
    name: 'tutors add unknown subject',
    argv: ['tutors', 'add', '--chat-id', '1', '--subjects', 'basket weaving', '--levels', 'p5'],
    message: /unknown subject "basket weaving"/,
  },
  { name: 'tutors add unknown level', argv: ['tutors', 'add', '--chat-id', '1', '--subjects', 'math', '--levels', 'sec 9'], message: /unknown level/ },
  { name: 'tutors add bad postal', argv: ['tutors', 'add', '--chat-id', '1', '--subjects', 'math', '--levels', 'p5', '--postal', '12'], message: /postal/ },
  {
    name: 'tutors add --max-distance far',
    argv: ['tutors', 'add', '--chat-id', '1', '--subjects', 'math', '--levels', 'p5', '--max-distance', 'far'],
    message: /distance/i,
  },
  { name: 'tutors add --min-rate -1', argv: ['tutors', 'add', '--chat-id', '1', '--subjects', 'math', '--levels', 'p5', '--min-rate', '-1'], message: /rate/i },
  {
    name: 'tutors add --modes telepathy',
    argv: ['tutors', 'add', '--chat-id', '1', '--subjects', 'math', '--levels', 'p5', '--modes', 'telepathy'],
    message: /mode/i,
  },
  { name: 'tutors remove unknown', argv: ['tutors', 'remove', '42'], message: /no tutor with chat id 42/ },
  { name: 'tutors import missing file', argv: ['tutors', 'import', 'nope.csv'], message: /nope\.csv/ },
  { name: 'serve --port 70000', argv: ['serve', '--port', '70000'], message: /--port must be between 0 and 65535/ },
  { name: 'serve on 0.0.0.0 without a token', argv: ['serve', '--host', '0.0.0.0', '--port', '0'], message: /needs DASHBOARD_TOKEN/ },
  { name: 'start --replay-interval soon', argv: ['start', '--replay-interval', 'soon'], message: /--replay-interval must be a whole number/ },
  { name: 'ab run without --b', argv: ['ab', 'run', '--a', 'x'], message: /required option '--b <version>'/ },
  { name: 'ab compare unknown version', argv: ['ab', 'compare', '--a', 'x', '--b', 'y'], message: /no pipeline version x/ },
  { name: 'versions prune without version', argv: ['versions', 'prune'], message: /missing required argument 'version'/ },
  { name: 'versions prune unknown', argv: ['versions', 'prune', 'nope', '--yes'], message: /no pipeline version nope/ },
  { name: 'eval missing folder', argv: ['eval', 'no-such-dir'], message: /no-such-dir/ },
  { name: 'eval --min-accuracy 2', argv: ['eval', 'x', '--min-accuracy', '2'], message: /--min-accuracy must be a number from 0 to 1/ },
  { name: 'extract missing file', argv: ['extract', 'missing.txt'], message: /cannot read missing\.txt: no such file/ },
  { name: 'extract --mode gpt', argv: ['extract', 'x', '--mode', 'gpt'], message: /--mode must be llm or rules/ },
  { name: 'import missing path', argv: ['import', 'missing.json'], message: /missing\.json/ },
  { name: 'status --run-type nonsense', argv: ['status', '--run-type', 'nonsense'], message: /run type|run-type/ },
  { name: 'queue stats --version without a value', argv: ['queue', 'stats', '--version'], message: /argument missing/ },
];

const CHANNEL_REFS = [
  'http://example.com',
  't.me/',
  '@',
  'a b c',
  't.me/joinchat/',
  '-100abc',
  '["@fine", {"id": 1}]',
  '[',
  'https://evil.example/t.me/x',
  't.me/a',
];
const channelCases: Case[] = CHANNEL_REFS.map((ref) => ({
  name: `channel ${JSON.stringify(ref)}`,
  argv: ['backfill', '--channels', ref],
  message: /^tutordex: .*(channel|CHANNEL)/,
}));

const WINDOWS: [string, string][] = [
  ['--since', '2026-13-01T00:00:00Z'],
  ['--since', '2026-01-01'],
  ['--since', 'yesterday'],
  ['--until', '2026-01-01T25:00:00Z'],
  ['--until', '1700000000'],
  ['--since', '2026-02-30T00:00:00Z'],
  ['--until', '2026-01-01T00:00:00'],
];
const windowCases: Case[] = [
  ...WINDOWS.map(([flag, value]) => ({
    name: `${flag} ${value}`,
    argv: ['enqueue', '--channels', '@agency', flag, value],
    message: new RegExp(`^tutordex: ${flag}`),
  })),
  {
    name: 'since after until',
    argv: ['enqueue', '--channels', '@agency', '--since', '2026-02-01T00:00:00Z', '--until', '2026-01-01T00:00:00Z'],
    message: /must be earlier than --until/,
  },
  {
    name: 'since equals until',
    argv: ['enqueue', '--channels', '@agency', '--since', '2026-02-01T00:00:00Z', '--until', '2026-02-01T00:00:00Z'],
    message: /must be earlier than --until/,
  },
];

const FILES: Record<string, string | Buffer> = {
  'truncated.json':
    '{"name": "Agency", "type": "public_channel", "id": 1, "messages": [{"id": 1, "type": "message", "date": "2026-01-01T00:00:00", "text": "hi"',
  'wrong-types.json': JSON.stringify({ name: 'Agency', type: 'public_channel', id: 'one', messages: [{ id: 'x', type: 'message', date: 5, text: 7 }] }),
  'not-object.json': '[1, 2, 3]',
  'empty.json': '',
  'latin1.json': Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xe9, 0xff, 0xfe, 0x22, 0x7d]),
  'no-messages.json': JSON.stringify({ name: 'Agency', type: 'public_channel', id: 1 }),
  'tutors-bad-row.csv': 'chat_id,subjects,levels\n1,math,p5\n2,astrology,p5\n',
  'tutors-dup.csv': 'chat_id,subjects,levels\n1,math,p5\n1,english,p4\n',
  'tutors-unknown-column.csv': 'chat_id,subjects,levels,shoe_size\n1,math,p5,42\n',
  'tutors-not-array.json': '{"chat_id": 1}',
  'tutors-empty.csv': '',
  'tutors-bad.json': '[{"chat_id": "x", "subjects": ["math"], "levels": ["p5"]}]',
};
const fileCases: Case[] = [
  ...['truncated.json', 'wrong-types.json', 'not-object.json', 'empty.json', 'latin1.json', 'no-messages.json'].map((f) => ({
    name: `import ${f}`,
    argv: ['import', f, '--channel', '@agency'],
    message: /^tutordex: /,
  })),
  ...['tutors-bad-row.csv', 'tutors-dup.csv', 'tutors-unknown-column.csv', 'tutors-not-array.json', 'tutors-empty.csv', 'tutors-bad.json'].map((f) => ({
    name: `tutors import ${f}`,
    argv: ['tutors', 'import', f],
    message: /^tutordex: /,
  })),
];

const ALL = [...envCases, ...flagCases, ...channelCases, ...windowCases, ...fileCases];

const HTTP_CASES: [string, number][] = [
  ['/api/assignments?page=0', 400],
  ['/api/assignments?page=abc', 400],
  ['/api/assignments?page=99999999', 400],
  ['/api/assignments?status=%3Cscript%3E', 400],
  [`/api/assignments?subject=${'s'.repeat(300)}`, 400],
  [`/api/assignments?q=${'%27%20or%201%3D1--'.repeat(25)}`, 400],
  ['/api/assignments/abc', 400],
  ['/api/assignments/-1', 400],
  ['/api/assignments/1e3', 400],
  ['/api/assignments/12345678901234567890', 400],
  ['/api/ab', 400],
  ['/api/ab?a=&b=', 400],
  [`/api/ab?a=${'v'.repeat(200)}&b=x`, 400],
  ['/api/ab?a=%00&b=%00', 400],
  ['/api/assignments?q=%00', 400],
  ['/api/assignments?region=%1b%5b31m', 400],
  ['/../../etc/passwd', 404],
];

/** The public assignments page (no login): hostile query strings get a short HTML 400 naming the parameter. */
const PUBLIC_PAGE_CASES: [string, RegExp][] = [
  ['/assignments?q=%00', /q:/],
  [`/assignments?q=${'a'.repeat(201)}`, /q:/],
  [`/assignments?subject=${'%27%20or%201%3D1--'.repeat(200)}`, /query string/],
  ['/assignments?subject=Maths&subject=English', /subject:/],
  ['/assignments?agency=1%20or%201%3D1', /agency:/],
  ['/assignments?minrate=-5', /minrate:/],
  ['/assignments?minrate=1e3', /minrate:/],
  ['/assignments?near=abcdef', /near:/],
  ['/assignments?near=570123;--', /near:/],
  ['/assignments?cursor=!!', /cursor:/],
  [`/assignments?cursor=${'A'.repeat(400)}`, /cursor:/],
  ['/assignments?region=%1B%5B31m', /region:/],
];

describe('bad-input suite', () => {
  it(`has at least 100 cases (${ALL.length + HTTP_CASES.length + PUBLIC_PAGE_CASES.length})`, () => {
    expect(ALL.length + HTTP_CASES.length + PUBLIC_PAGE_CASES.length).toBeGreaterThanOrEqual(100);
  });

  it('every malformed CLI input: one clear line, non-zero exit, no stack trace, nothing written', async () => {
    const ws = cliWorkspace({ EXTRACTION_PIPELINE_VERSION: 'v1' });
    expect((await ws.run(['db', 'migrate'])).code).toBe(0);
    for (const [file, content] of Object.entries(FILES)) writeFileSync(path.join(ws.dir, file), content);
    const failures: string[] = [];
    for (const c of ALL) {
      const r = await ws.run(c.argv, c.env);
      const lines = r.err.split('\n').filter((l) => l.trim() !== '');
      const problems = [
        r.code === 0 ? 'exit 0' : null,
        !c.message.test(lines[0] ?? '') ? `first line ${JSON.stringify(lines[0] ?? '')}` : null,
        lines.some((l) => /^\s+at\s/.test(l) || l.includes('node_modules')) ? 'stack trace shown' : null,
        lines.length > 2 ? `${lines.length} lines` : null,
      ].filter(Boolean);
      if (problems.length) failures.push(`${c.name}: ${problems.join('; ')}`);
    }
    expect(failures).toEqual([]);
    const db = await openPglite({ dataDir: ws.env.TUTORDEX_DATA_DIR! });
    try {
      const counts = await db.query<{ t: string; n: number }>(
        `select 'raw' as t, count(*)::int as n from telegram_messages_raw union all select 'jobs', count(*)::int from telegram_extractions
         union all select 'tutors', count(*)::int from tutors union all select 'assignments', count(*)::int from assignments`,
      );
      expect(counts.map((c) => [c.t, c.n])).toEqual([
        ['raw', 0],
        ['jobs', 0],
        ['tutors', 0],
        ['assignments', 0],
      ]);
    } finally {
      await db.close();
    }
  }, 120_000);

  it('every hostile HTTP query string: 4xx with a JSON reason, nothing leaked', async () => {
    const db = await openPglite({ dataDir: null });
    try {
      const { migrate } = await import('../src/db/index.ts');
      await migrate(db);
      const app = createWebApp({ db, config: workerConfig(), token: null });
      for (const [url, status] of HTTP_CASES) {
        const res = await app.request(url);
        expect(res.status, url).toBe(status);
        const body = (await res.json()) as { error: string };
        expect(body.error, url).toMatch(/\S/);
        expect(JSON.stringify(body), url).not.toMatch(/\bat\s.+\.ts:\d+|node_modules|postgres:\/\//);
      }
      // an injection attempt within the limits is just text: 200 and nothing found
      const injected = await app.request(
        `/api/assignments?q=${encodeURIComponent("' or 1=1; drop table assignments; --")}&subject=${encodeURIComponent("x' or '1'='1")}`,
      );
      expect(injected.status).toBe(200);
      expect(((await injected.json()) as { total: number }).total).toBe(0);
      expect(await db.query('select count(*)::int as n from assignments')).toEqual([{ n: 0 }]);

      for (const [url, reason] of PUBLIC_PAGE_CASES) {
        const res = await app.request(url);
        const html = await res.text();
        expect(res.status, url).toBe(400);
        expect(res.headers.get('content-type'), url).toContain('text/html');
        expect(html, url).toMatch(reason);
        expect(html, url).not.toMatch(/\bat\s.+\.ts:\d+|node_modules|postgres:\/\/|Error:/);
        expect(html.length, url).toBeLessThan(5000);
      }
    } finally {
      await db.close();
    }
  });
});
