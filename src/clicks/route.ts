import type { Context } from 'hono';
import type { Database } from '../db/index.ts';
import { followClick } from './links.ts';

/**
 * GET /r/<token>: record the click and redirect (302) to the original post. Anything else under /r/ – an unknown,
 * malformed, over-long or oddly encoded token – is a 404. Needs no dashboard token (tutors follow these links).
 */
export function clickRedirectHandler(o: { db: Database }) {
  return async (c: Context) => {
    const rest = c.req.path.startsWith('/r/') ? c.req.path.slice(3) : '';
    const target = rest.length > 0 && rest.length <= 64 ? await followClick(o.db, rest, c.req.method !== 'HEAD') : null;
    c.header('Cache-Control', 'no-store');
    if (!target) return c.json({ error: 'not found' }, 404);
    return c.redirect(target, 302);
  };
}
