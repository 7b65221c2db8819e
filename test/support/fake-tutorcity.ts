/**
 * A fake TutorCity assignments API: a real HTTP server on 127.0.0.1 (random port) serving, by default, the real
 * sample response (test/fixtures/tutorcity-sample-limit5.json), honouring `?limit=N` as the real API does.
 *
 *   const api = await startFakeTutorCity();
 *   api.url                                   // give it as TUTORCITY_API_URL
 *   api.rows = api.rows.filter(...)           // change the feed (rows vanish, change, appear)
 *   api.answer = { status: 500 } | { body: 'not json' } | { delayMs: 5000 }   // misbehave
 *   api.requests                              // what was asked (path + query)
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type SampleRow = Record<string, unknown> & { assignment_code: string };
export const SAMPLE_ROWS: SampleRow[] = (
  JSON.parse(readFileSync(new URL('../fixtures/tutorcity-sample-limit5.json', import.meta.url), 'utf8')) as { payload: { all_assignments_data: SampleRow[] } }
).payload.all_assignments_data;

export interface FakeTutorCity {
  readonly url: string;
  rows: SampleRow[];
  answer: { status?: number; body?: string; delayMs?: number } | null;
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startFakeTutorCity(): Promise<FakeTutorCity> {
  const state: FakeTutorCity = {
    url: '',
    rows: structuredClone(SAMPLE_ROWS),
    answer: null,
    requests: [],
    close: async () => {},
  };
  const server = createServer((req, res) => {
    state.requests.push(req.url ?? '');
    const u = new URL(req.url ?? '/', 'http://x');
    const limit = Number(u.searchParams.get('limit') ?? 50);
    const a = state.answer;
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(a?.status ?? 200, { 'content-type': 'application/json' });
      res.end(a?.body ?? JSON.stringify({ all_assignments_data: state.rows.slice(0, limit) }));
    };
    if (a?.delayMs) setTimeout(send, a.delayMs).unref();
    else send();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  Object.assign(state, {
    url: `http://127.0.0.1:${port}/api/tuition-assignments`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
  return state;
}
