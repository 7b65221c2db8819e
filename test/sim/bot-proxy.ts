/**
 * A fault-injecting HTTP proxy in front of the fake Bot API (test/support/fake-bot-api.ts), so the fake's own
 * record (`calls`, `messages()`) stays the ground truth of what Telegram received and shows.
 *
 * Every worker gets its own path prefix (`http://127.0.0.1:<port>/w<N>`), so the proxy knows which worker made a
 * call (a kill point can kill exactly the caller, mid-send). Per call of sendMessage / editMessageText /
 * deleteMessage a fault is chosen by `pick` (the harness keys it on the message's content and how many times that
 * content was tried, not on time):
 *   ok       forwarded, answered
 *   slow     forwarded (Telegram has it), answered only after the client's timeout
 *   reset    forwarded (Telegram has it), then the connection is destroyed: the answer is lost
 *   gateway  forwarded (Telegram has it), answered 502/503/504 as a proxy in front of Telegram would
 *   server   not forwarded, answered 500
 *   flood    not forwarded, answered 429 with retry_after; the chat stays flooded that long (calls meanwhile get
 *            429 with the remaining time, as Telegram does)
 *   refuse   forwarded and answered; then the proxy stops listening for a while: new connections are refused
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { BotFault } from './scenario.ts';

export interface ProxiedCall {
  seq: number;
  worker: number;
  method: string;
  chat: string;
  /** the text sent (sendMessage / editMessageText), for tracing */
  text: string | null;
  /** 'cut': forwarded, then its connection was dropped by a refusal elsewhere (the answer is lost) */
  fault: BotFault | 'flooded' | 'passthrough' | 'cut';
  at: number;
}

export interface ProxyOptions {
  upstream: string;
  /** fault for one faultable call; `nth` counts earlier calls with the same (method, chat, key) */
  pick(call: { worker: number; method: string; chat: string; text: string | null; nth: number }): {
    fault: BotFault;
    retryAfter?: number;
    refuseMs?: number;
    slowMs?: number;
  };
  /** called for every faultable call before it is handled (kill points); may await; 'drop' destroys it unforwarded */
  onCall?(call: ProxiedCall): Promise<'continue' | 'drop'> | 'continue' | 'drop';
  /** called once a call's request reached the fake Bot API, before its answer goes back (kill points) */
  afterForward?(call: ProxiedCall): Promise<void> | void;
  /** whether a worker's client times out quickly enough for a `slow` answer (otherwise slow acts as reset) */
  slowOk(worker: number): boolean;
}

const FAULTABLE = new Set(['sendMessage', 'editMessageText', 'deleteMessage']);

export interface BotProxy {
  /** the API root for worker N */
  urlFor(worker: number): string;
  readonly calls: ProxiedCall[];
  /** from now on every call passes untouched (the storm is over); an open refusal ends at once */
  heal(): Promise<void>;
  counts(): Record<string, number>;
  close(): Promise<void>;
}

export async function startBotProxy(o: ProxyOptions): Promise<BotProxy> {
  const calls: ProxiedCall[] = [];
  const seen = new Map<string, number>();
  const floodedUntil = new Map<string, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let healed = false;
  let refusing = false;
  let closed = false;
  let port = 0;
  let server: Server;

  const upstream = new URL(o.upstream);
  const forward = (path: string, headers: IncomingMessage['headers'], body: Buffer) =>
    new Promise<{ status: number; headers: Record<string, string>; body: Buffer }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          path,
          method: 'POST',
          headers: { ...headers, host: upstream.host, 'content-length': String(body.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 502,
              headers: { 'content-type': String(res.headers['content-type'] ?? 'application/json') },
              body: Buffer.concat(chunks),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const telegramError = (res: ServerResponse, status: number, description: string, extra: Record<string, unknown> = {}) => {
    answer(res, status, { 'content-type': 'application/json' }, JSON.stringify({ ok: false, error_code: status, description, ...extra }));
  };
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  /**
   * Stop listening: new connections are refused. Idle kept-alive connections are closed; busy ones get their
   * answer with `Connection: close` (no request that reached Telegram loses its answer to a refusal).
   */
  function refuseFor(ms: number): void {
    if (refusing || healed || closed) return;
    refusing = true;
    server.close();
    server.closeIdleConnections();
    later(ms, () => void reopen());
  }
  const answer = (res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer | string) => {
    if (res.destroyed) return;
    res.writeHead(status, refusing ? { ...headers, connection: 'close' } : headers).end(body);
  };
  async function reopen(): Promise<void> {
    if (!refusing || closed) return;
    for (let i = 0; i < 50; i++) {
      try {
        await listen(port);
        refusing = false;
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    throw new Error(`bot proxy could not listen on port ${port} again`);
  }

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const m = /^\/w(\d+)(\/bot[^/]+\/([A-Za-z]+))$/.exec((req.url ?? '').split('?')[0]!);
      if (!m) return telegramError(res, 404, 'Not Found');
      const worker = Number(m[1]);
      const path = m[2]!;
      const method = m[3]!;
      if (!FAULTABLE.has(method)) {
        const up = await forward(path, req.headers, body);
        return answer(res, up.status, up.headers, up.body);
      }
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        /* grammY sends JSON; anything else goes through unfaulted */
      }
      const chat = String(json.chat_id ?? '');
      const text = typeof json.text === 'string' ? json.text : null;
      const call: ProxiedCall = { seq: calls.length + 1, worker, method, chat, text, fault: 'passthrough', at: Date.now() };
      calls.push(call);
      const verdict = o.onCall ? await o.onCall(call) : 'continue';
      if (verdict === 'drop') {
        // the caller was killed before its request went anywhere
        res.socket?.destroy();
        return;
      }
      if (healed) {
        const up = await forward(path, req.headers, body);
        await o.afterForward?.(call);
        return answer(res, up.status, up.headers, up.body);
      }
      const flood = floodedUntil.get(chat) ?? 0;
      if (flood > Date.now()) {
        call.fault = 'flooded';
        return telegramError(res, 429, 'Too Many Requests: retry after', { parameters: { retry_after: Math.max(1, Math.ceil((flood - Date.now()) / 1000)) } });
      }
      const key = `${method}\u0000${chat}\u0000${text ?? String(json.message_id ?? '')}`;
      const nth = seen.get(key) ?? 0;
      seen.set(key, nth + 1);
      const choice = o.pick({ worker, method, chat, text, nth });
      let fault = choice.fault;
      if (fault === 'slow' && !o.slowOk(worker)) fault = 'reset';
      call.fault = fault;
      if (fault === 'server') return telegramError(res, 500, 'Internal Server Error');
      if (fault === 'flood') {
        const seconds = choice.retryAfter ?? 1;
        floodedUntil.set(chat, Date.now() + seconds * 1000);
        return telegramError(res, 429, `Too Many Requests: retry after ${seconds}`, { parameters: { retry_after: seconds } });
      }
      const up = await forward(path, req.headers, body);
      await o.afterForward?.(call);
      if (res.destroyed) {
        call.fault = 'cut';
        return;
      }
      if (fault === 'reset') {
        res.socket?.destroy();
        return;
      }
      if (fault === 'gateway') {
        const status = [502, 503, 504][nth % 3]!;
        return telegramError(res, status, status === 502 ? 'Bad Gateway' : status === 503 ? 'Service Unavailable' : 'Gateway Timeout');
      }
      if (fault === 'slow') {
        later(choice.slowMs ?? 2000, () => {
          if (!res.writableEnded) answer(res, up.status, up.headers, up.body);
        });
        return;
      }
      if (fault === 'refuse') {
        res.setHeader('connection', 'close');
        refuseFor(choice.refuseMs ?? 1000);
      }
      answer(res, up.status, up.headers, up.body);
    })().catch(() => res.destroy());
  };

  server = createServer(handler);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  function listen(p: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (server.listening) return resolve();
      const onError = (err: Error) => {
        server.off('listening', onListening);
        reject(err);
      };
      const onListening = () => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(p, '127.0.0.1');
    });
  }
  await listen(0);
  port = (server.address() as AddressInfo).port;

  return {
    urlFor: (worker) => `http://127.0.0.1:${port}/w${worker}`,
    calls,
    async heal() {
      healed = true;
      floodedUntil.clear();
      await reopen();
    },
    counts() {
      const out: Record<string, number> = {};
      for (const c of calls) out[c.fault] = (out[c.fault] ?? 0) + 1;
      return out;
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      if (server.listening) server.close();
    },
  };
}
