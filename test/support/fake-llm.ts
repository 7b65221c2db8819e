import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { emptyLlmAssignment, type LlmAssignment } from '../../src/extraction/index.ts';

export type LlmMode = 'ok' | 'down' | 'garbage' | 'hang';

/** What one request gets when a fault schedule is set: 'slow' answers correctly, but only after `slowMs`. */
export type LlmFault = 'ok' | 'down' | 'garbage' | 'hang' | 'slow';

/**
 * A fake OpenAI-compatible chat-completions server on 127.0.0.1. In 'ok' mode it answers every post with a
 * valid assignment whose headline is the post's first line; 'down' answers 500, 'garbage' non-JSON content,
 * 'hang' never answers (the client's timeout fires).
 * `setFaults(pick)` overrides the mode per request: `pick(post, index)` chooses each request's fault (a schedule),
 * and every request is recorded in `served` with the fault it got.
 */
export async function startFakeLlm(options: { answer?: (post: string) => Partial<LlmAssignment>; slowMs?: number } = {}) {
  let mode: LlmMode = 'ok';
  let pick: ((post: string, index: number) => LlmFault) | null = null;
  const requests: string[] = [];
  const served: { post: string; fault: LlmFault; at: number }[] = [];
  const hanging = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(raw) as { messages: { role: string; content: string }[] };
      const post = body.messages.at(-1)?.content ?? '';
      requests.push(post);
      const fault: LlmFault = pick ? pick(post, requests.length - 1) : mode;
      if (pick) served.push({ post, fault, at: Date.now() });
      if (fault === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (fault === 'down') {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'model crashed' } }));
        return;
      }
      const firstLine =
        post
          .split('\n')
          .find((l) => l.trim() !== '')
          ?.trim() ?? null;
      const answer: LlmAssignment = { ...emptyLlmAssignment(), academic_display_text: firstLine, ...(options.answer?.(post) ?? {}) };
      const content = fault === 'garbage' ? 'I am not JSON at all' : JSON.stringify(answer);
      const reply = () =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id: 'x',
            object: 'chat.completion',
            created: 0,
            model: 'fake-model',
            choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
          }),
        );
      if (fault !== 'slow') {
        reply();
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed && !res.writableEnded) reply(); // the client has usually given up by now
      }, options.slowMs ?? 2000);
      timers.add(timer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return {
    url,
    requests,
    served,
    /** Per-request faults (null = back to the plain mode). */
    setFaults(p: ((post: string, index: number) => LlmFault) | null) {
      pick = p;
    },
    setMode(m: LlmMode) {
      mode = m;
      if (m !== 'hang') for (const res of hanging) res.destroy();
      if (m !== 'hang') hanging.clear();
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
