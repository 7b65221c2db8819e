import { timingSafeEqual, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { compareVersions } from '../ab/index.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { ConfigError } from '../errors.ts';
import { bindQueueMetrics, registry } from '../metrics/index.ts';
import { agencySummaries, assignmentDetail, catchupState, listAssignments, queueOverview, recentRuns, type AssignmentQuery } from './api.ts';
import { dashboardHtml } from './dashboard.ts';
import { checkHealth, DEFAULT_HEALTH, type HealthOptions } from './health.ts';
import { publicAssignmentsHandler } from './public-page.ts';
import { CONTROL } from './public-query.ts';
import { clickRedirectHandler } from '../clicks/index.ts';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);
const COOKIE = 'tutordex_token';

export interface WebOptions {
  db: Database;
  config: Config;
  /** DASHBOARD_TOKEN; required unless bound to a local address */
  token: string | null;
  health?: Partial<HealthOptions>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();
const sameToken = (given: string | undefined | null, token: string) => given != null && timingSafeEqual(digest(given), digest(token));

class BadRequest extends Error {}

function assignmentQuery(c: Context): AssignmentQuery {
  const text = (name: string, max = 100): string | null => {
    const v = c.req.query(name);
    if (v === undefined || v.trim() === '') return null;
    if (v.length > max) throw new BadRequest(`${name}: at most ${max} characters`);
    if (CONTROL.test(v)) throw new BadRequest(`${name}: control characters are not allowed`);
    return v.trim();
  };
  const status = text('status') ?? 'open';
  if (!['open', 'closed', 'expired', 'all'].includes(status)) throw new BadRequest('status: open, closed, expired or all');
  const pageText = text('page') ?? '1';
  if (!/^\d{1,6}$/.test(pageText) || Number(pageText) < 1) throw new BadRequest('page: a whole number from 1');
  return {
    subject: text('subject'),
    level: text('level'),
    region: text('region'),
    status: status as AssignmentQuery['status'],
    q: text('q', 200),
    page: Number(pageText),
  };
}

const LOGIN_PAGE = (failed: boolean) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>TutorDex · log in</title>
<style>body{font:15px system-ui,sans-serif;display:grid;place-items:center;height:90vh;background:#f5f6f8}form{background:#fff;padding:24px 28px;border-radius:8px;box-shadow:0 1px 4px #0002}input{font:inherit;padding:6px;width:260px}button{font:inherit;padding:6px 14px;margin-top:10px}</style></head>
<body><form method="post" action="/login"><h2>TutorDex dashboard</h2>${failed ? '<p style="color:#b42318">That token is not right.</p>' : ''}
<label>Dashboard token<br><input type="password" name="token" autofocus></label><br><button type="submit">Log in</button></form></body></html>`;

/** The read-only web app: /health, /metrics, /api/*, the dashboard. */
export function createWebApp(o: WebOptions): Hono {
  const app = new Hono();
  const health = { ...DEFAULT_HEALTH, ...o.health };
  bindQueueMetrics(o.db);

  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Frame-Options', 'DENY');
    c.header(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
    );
  });

  app.get('/health', async (c) => {
    const h = await checkHealth(o.db, health);
    return c.json(h, h.ok ? 200 : 503);
  });

  // The public assignments page needs no login (registered before the token check).
  app.get('/assignments', publicAssignmentsHandler({ db: o.db, freshness: o.config.assignments.freshness }));

  // Click-tracking redirects (/r/<token>) are followed by tutors: no login either.
  app.get('/r/*', clickRedirectHandler({ db: o.db }));

  if (o.token) {
    const token = o.token;
    app.get('/login', (c) => c.html(LOGIN_PAGE(false)));
    app.post('/login', async (c) => {
      const form = await c.req.parseBody();
      const given = typeof form.token === 'string' ? form.token : null;
      if (!sameToken(given, token)) return c.html(LOGIN_PAGE(true), 401);
      setCookie(c, COOKIE, given!, { httpOnly: true, sameSite: 'Strict', path: '/' });
      return c.redirect('/', 303);
    });
    app.use('*', async (c, next) => {
      const bearer = c.req.header('authorization')?.replace(/^Bearer\s+/i, '');
      if (sameToken(bearer, token) || sameToken(getCookie(c, COOKIE), token)) return next();
      if (c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html')) return c.redirect('/login', 303);
      return c.json({ error: 'unauthorized: send Authorization: Bearer <DASHBOARD_TOKEN> or log in at /login' }, 401);
    });
  }

  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }));
  app.get('/api/queue', async (c) => c.json(await queueOverview(o.db, o.config)));
  app.get('/api/runs', async (c) => c.json(await recentRuns(o.db)));
  app.get('/api/catchup', async (c) => c.json(await catchupState(o.db)));
  app.get('/api/agencies', async (c) => c.json(await agencySummaries(o.db)));
  app.get('/api/assignments', async (c) => c.json(await listAssignments(o.db, assignmentQuery(c))));
  app.get('/api/assignments/:id', async (c) => {
    const id = c.req.param('id');
    if (!/^\d{1,15}$/.test(id)) throw new BadRequest('id: a whole number');
    const detail = await assignmentDetail(o.db, Number(id));
    return detail ? c.json(detail) : c.json({ error: `no assignment ${id}` }, 404);
  });
  app.get('/api/ab', async (c) => {
    const a = c.req.query('a')?.trim();
    const b = c.req.query('b')?.trim();
    if (!a || !b || a.length > 100 || b.length > 100 || CONTROL.test(a) || CONTROL.test(b)) throw new BadRequest('a and b: two pipeline versions');
    const known = await o.db.query<{ v: string }>('select distinct pipeline_version as v from telegram_extractions where pipeline_version = any($1::text[])', [
      [a, b],
    ]);
    const missing = [a, b].filter((v) => !known.some((k) => k.v === v));
    if (missing.length) return c.json({ error: `no pipeline version ${missing.join(', ')} in the queue` }, 404);
    const { rows: _rows, ...comparison } = await compareVersions(o.db, { a, b, since: null, until: null, channels: null, gold: null });
    return c.json(comparison);
  });
  app.get('/', (c) => c.html(dashboardHtml()));

  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((err, c) => {
    if (err instanceof BadRequest) return c.json({ error: err.message }, 400);
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Bind the app. Anything but a local address needs a token (no secret is ever rendered; raw posts are escaped). */
export async function startWebServer(o: WebOptions & { host: string; port: number }): Promise<RunningServer> {
  if (!LOCAL_HOSTS.has(o.host) && !o.token) {
    throw new ConfigError(`binding the dashboard to ${o.host} needs DASHBOARD_TOKEN (anyone on the network could read it); bind 127.0.0.1 or set the token`);
  }
  const app = createWebApp(o);
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: o.host, port: o.port }, () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new ConfigError(`port ${o.port} on ${o.host} is already in use (pick another with --port)`) : err),
    );
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
