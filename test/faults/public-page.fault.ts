import { expect, it } from 'vitest';
import { startWebServer } from '../../src/web/server.ts';
import { describePostgres } from '../support/databases.ts';
import { putAssignment } from '../support/public-assignments.ts';
import { workerConfig } from '../support/worker.ts';

const REQUESTS = Number(process.env.FAULT_PUBLIC_REQUESTS ?? 4000);
const CONCURRENCY = 40;

/** A seeded generator: the same hostile mix every run. */
function random(seed: number) {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describePostgres('fault: the public page under a flood of valid and hostile requests', (t) => {
  it(`${REQUESTS} requests, ${CONCURRENCY} at a time: only 200/400 (431 for oversized URLs), never a 500, no tutor data, memory bounded, still healthy`, async () => {
    const subjects = ['Maths', 'English', 'Science', 'Chemistry', 'Physics'];
    const regions = ['North', 'East', 'West', 'Central', 'North-East'];
    for (let i = 0; i < 60; i++) {
      await putAssignment(t.db, {
        agency: `Agency ${i % 5}`,
        title: `P${(i % 6) + 1} ${subjects[i % 5]}`,
        subjects: [subjects[i % 5]!],
        levels: [i % 2 ? 'Primary' : 'Secondary'],
        region: regions[i % 5]!,
        mode: i % 3 === 0 ? 'Online' : 'Face-to-Face',
        rateMin: 30 + (i % 5) * 5,
        rateMax: 40 + (i % 5) * 5,
        status: i % 10 === 9 ? 'closed' : 'open',
      });
    }
    // tutors whose data must never appear on the public page
    await t.db.query(
      `insert into tutors (chat_id, display_name, subjects, levels, postal_code) values (987654321001, 'Secret Tutor Alpha', '{MATH}', '{Primary}', '520123'), (987654321002, 'Secret Tutor Beta', '{ENGLISH}', '{Secondary}', '560123')`,
    );
    const server = await startWebServer({ db: t.db, config: workerConfig(), token: 'dashboard-secret', host: '127.0.0.1', port: 0 });
    const rand = random(42);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const valid = () => {
      const parts = [
        rand() < 0.5 ? `subject=${pick(subjects)}` : '',
        rand() < 0.3 ? `level=${pick(['Primary', 'Secondary'])}` : '',
        rand() < 0.3 ? `region=${pick(regions)}` : '',
        rand() < 0.2 ? `minrate=${pick([30, 40, 50])}` : '',
        rand() < 0.2 ? `q=${pick(['maths', 'p3', 'agency'])}` : '',
        rand() < 0.2 ? `near=${pick(['520123', '560123', '119077'])}` : '',
      ];
      return parts.filter(Boolean).join('&');
    };
    const junk = [
      '%00',
      '%',
      '&',
      '=',
      'q',
      'subject',
      'agency',
      'minrate',
      'near',
      'cursor',
      '1',
      'x',
      '%27',
      '%22',
      '%3C',
      ';',
      '--',
      '%FF',
      '+',
      '[]',
      '%E0%A4',
      'or 1=1',
    ];
    const hostile = () => {
      const r = rand();
      if (r < 0.1) return `q=${'x'.repeat(2000 + Math.floor(rand() * 20_000))}`; // huge
      if (r < 0.2) return `cursor=${Buffer.from(String(rand())).toString('base64url')}`;
      if (r < 0.3) return `${pick(['subject', 'q', 'agency'])}=a&${pick(['subject', 'q', 'agency'])}=b`;
      return Array.from({ length: 1 + Math.floor(rand() * 16) }, () => pick(junk)).join('');
    };
    const urls = Array.from({ length: REQUESTS }, (_, i) => `/assignments${i % 3 === 0 ? `?${valid()}` : `?${hostile()}`}`);

    const statuses = new Map<number, number>();
    let leaks = 0;
    let nextPages = 0;
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const started = Date.now();
    let index = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (index < urls.length) {
          const url = urls[index++]!;
          const res = await fetch(`${server.url}${url}`);
          const body = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (/987654321|Secret Tutor|dashboard-secret|node_modules|\bat \w+ \(/.test(body)) leaks++;
          if (body.includes('cursor=')) nextPages++;
          rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const health = await fetch(`${server.url}/health`);
    const page = await fetch(`${server.url}/assignments?subject=Maths`);
    const pageHtml = await page.text();
    await server.close();
    const tally = Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0]));
    console.log(
      `[fault] public page: ${REQUESTS} requests (${Math.ceil(REQUESTS / 3)} valid, the rest hostile) in ${seconds.toFixed(1)} s (${Math.round(REQUESTS / seconds)}/s), ` +
        `${CONCURRENCY} at a time: statuses ${JSON.stringify(tally)}; bodies leaking tutor data, secrets or stack traces ${leaks}; ` +
        `pages with a next link ${nextPages}; RSS ${Math.round(rssBefore / 2 ** 20)} → peak ${Math.round(rssPeak / 2 ** 20)} MB; /health after ${health.status}`,
    );
    // 431: Node's HTTP parser refuses a request line over its 16 KB header limit before our code sees it
    expect(
      Object.keys(tally)
        .map(Number)
        .filter((s) => ![200, 400, 431].includes(s)),
    ).toEqual([]);
    expect(tally[200]).toBeGreaterThan(REQUESTS / 3 - 1);
    expect(tally[400]).toBeGreaterThan(0);
    expect(leaks).toBe(0);
    expect(health.status).toBe(200);
    expect(page.status).toBe(200);
    expect(pageHtml).toContain('Maths');
    expect(rssPeak - rssBefore).toBeLessThan(300 * 2 ** 20);
  });
});
