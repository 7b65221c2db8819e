/**
 * The simulation's LLM: test/support/fake-llm.ts answering every post with what the rules extractor reads from
 * it (so LLM-mode assignments have real subjects, levels, postal codes and rates), behind a small front that
 * delays answers within the timeout. Faults are keyed by the post's text and how many times it was asked, so the
 * schedule does not depend on timing:
 *   delay    answered correctly after llmDelayMs (long extractions: deletes, edits and stale sweeps race them)
 *   timeout  answered after the client's timeout (the client gives up, retries)
 *   down     500
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extractRules } from '../../src/extraction/index.ts';
import { startFakeLlm } from '../support/fake-llm.ts';
import { unit } from './prng.ts';
import type { LlmFaultKind, Weather } from './scenario.ts';

export const LLM_TIMEOUT_S = 2;

/** The post inside the user message (see buildUserMessage in src/extraction/llm/prompt.ts). */
function targetOf(user: string): string {
  const m = /"""\n([\s\S]*?)\n"""/.exec(user);
  return m ? m[1]! : user;
}

/** `beforeAnswer` runs when a request arrives and is awaited before it is answered (a delete during extraction). */
export async function startSimLlm(seed: number, weather: Weather, beforeAnswer: (post: string) => Promise<void> = async () => {}) {
  const asked = new Map<string, number>();
  const served: Record<LlmFaultKind, number> = { ok: 0, delay: 0, timeout: 0, down: 0 };
  const decide = (post: string): { kind: LlmFaultKind; delayMs: number } => {
    const nth = asked.get(post) ?? 0;
    asked.set(post, nth + 1);
    const u = unit(seed, 'llm', post, nth);
    if (u >= weather.llmFaultRate) return { kind: 'ok', delayMs: 0 };
    const w = weather.llmWeights;
    const x = (u / weather.llmFaultRate) * (w.delay + w.timeout + w.down);
    const kind: LlmFaultKind = x < w.delay ? 'delay' : x < w.delay + w.timeout ? 'timeout' : 'down';
    const [lo, hi] = weather.llmDelayMs;
    return { kind, delayMs: kind === 'delay' ? Math.round(lo + unit(seed, 'llm-delay', post, nth) * (hi - lo)) : 0 };
  };

  const pending = new Map<string, LlmFaultKind>();
  const fake = await startFakeLlm({ answer: (post) => extractRules(targetOf(post), null), slowMs: LLM_TIMEOUT_S * 1000 + 500 });
  fake.setFaults((post) => {
    const kind = pending.get(post) ?? 'ok';
    pending.delete(post);
    return kind === 'timeout' ? 'slow' : kind === 'down' ? 'down' : 'ok';
  });
  const upstream = new URL(fake.url);
  const timers = new Set<NodeJS.Timeout>();
  const front = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      let user = '';
      try {
        user = (JSON.parse(body.toString('utf8')) as { messages: { content: string }[] }).messages.at(-1)?.content ?? '';
      } catch {
        /* forwarded as is */
      }
      await beforeAnswer(targetOf(user));
      const d = decide(targetOf(user));
      served[d.kind]++;
      pending.set(user, d.kind);
      if (d.delayMs > 0)
        await new Promise<void>((r) => {
          const t = setTimeout(() => (timers.delete(t), r()), d.delayMs);
          timers.add(t);
        });
      if (res.destroyed) return;
      const up = httpRequest(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } },
        (u) => {
          res.writeHead(u.statusCode ?? 502, u.headers);
          u.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      res.on('close', () => up.destroy());
      up.end(body);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(front.address() as AddressInfo).port}/v1`,
    served,
    async close() {
      for (const t of timers) clearTimeout(t);
      front.closeAllConnections();
      await new Promise((r) => front.close(r));
      await fake.close();
    },
  };
}
