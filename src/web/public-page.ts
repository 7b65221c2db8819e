/**
 * The public assignments page (issue 9 item 4): `GET /assignments`, no login, server-rendered HTML that works
 * without JavaScript (filters are a GET form, paging is plain links) and stays small for phones (inline CSS,
 * no script, no external assets). Every value from the database is untrusted (it comes from Telegram posts) and
 * goes through `esc`. No tutor data is read or shown. Data and validation live in `public-query.ts`.
 */
import type { Context } from 'hono';
import { freshnessTier, type FreshnessPolicy } from '../assignments/index.ts';
import type { Database } from '../db/index.ts';
import {
  parsePublicQuery,
  PublicQueryError,
  queryPublicAssignments,
  queryString,
  type FacetOption,
  type PublicCard,
  type PublicQuery,
  type PublicResult,
} from './public-query.ts';

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `*{box-sizing:border-box}body{margin:0;background:#f4f5f7;color:#1d2330;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
header{background:#111827;color:#f9fafb;padding:10px 14px}header h1{margin:0;font-size:17px}header p{margin:2px 0 0;color:#9ca3af;font-size:13px}
main{max-width:760px;margin:0 auto;padding:10px}
form{display:grid;grid-template-columns:1fr 1fr;gap:8px;background:#fff;border:1px solid #e3e6eb;border-radius:10px;padding:10px;margin-bottom:10px}
label{font-size:12px;color:#6b7280;display:flex;flex-direction:column;gap:2px;min-width:0}
select,input{font:inherit;font-size:15px;padding:6px;border:1px solid #cbd2dc;border-radius:6px;background:#fff;color:#1d2330;width:100%;min-width:0}
.wide{grid-column:1/-1}.btns{grid-column:1/-1;display:flex;gap:10px;align-items:center}
button{font:inherit;font-weight:600;padding:8px 18px;border:0;border-radius:6px;background:#2563eb;color:#fff}
.btns a{color:#2563eb;font-size:14px}
summary{cursor:pointer;color:#2563eb;font-size:14px;padding:4px 0}.more{display:grid;grid-template-columns:1fr 1fr;gap:8px;margin-top:6px}
.summary{margin:4px 2px 10px;color:#4b5563;font-size:14px}
.card{background:#fff;border:1px solid #e3e6eb;border-radius:10px;padding:10px 12px;margin-bottom:10px}
.card h2{font-size:16px;margin:0 0 4px;overflow-wrap:anywhere}
.meta{color:#6b7280;font-size:13px;margin:0 0 6px;overflow-wrap:anywhere}
.tier{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:5px;background:#9ca3af}
.t-green{background:#16a34a}.t-yellow{background:#ca8a04}.t-orange{background:#ea580c}.t-red{background:#dc2626}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:0;font-size:14px}dt{color:#6b7280}dd{margin:0;overflow-wrap:anywhere}
.rate{font-weight:650;color:#15803d}.dist{font-weight:600;color:#1d4ed8}
.open{display:inline-block;margin-top:8px;padding:6px 12px;border-radius:6px;background:#eef2ff;color:#1d4ed8;font-weight:600;text-decoration:none}
.pager{display:flex;justify-content:space-between;margin:14px 2px 30px}.pager a{color:#2563eb;font-weight:600}
.empty{background:#fff;border:1px dashed #cbd2dc;border-radius:10px;padding:24px;text-align:center;color:#6b7280}
@media(min-width:720px){form{grid-template-columns:repeat(4,1fr)}.wide{grid-column:span 2}details.wide{grid-column:1/-1}.more{grid-template-columns:repeat(4,1fr)}}`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${esc(title)}</title><style>${CSS}</style></head>
<body><header><h1>TutorDex</h1><p>Open tuition assignments from Telegram agencies</p></header><main>${body}</main></body></html>`;
}

export function badRequestPage(reason: string): string {
  return layout(
    'TutorDex · bad request',
    `<div class="empty" data-testid="bad-request"><p><strong>That link is not valid.</strong></p><p>${esc(reason)}</p><p><a href="/assignments">Show all open assignments</a></p></div>`,
  );
}

/** "3 h ago" style; `now` injectable for tests. */
export function ago(d: Date | null, now: Date): string {
  if (!d) return 'at an unknown time';
  const s = Math.max(0, Math.round((now.getTime() - d.getTime()) / 1000));
  if (s < 60) return 'just now';
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

export function freshnessText(c: Pick<PublicCard, 'publishedAt' | 'lastSeenAt' | 'bumpCount'>, now: Date): string {
  const posted = `posted ${ago(c.publishedAt ?? c.lastSeenAt, now)}`;
  if (c.bumpCount <= 0) return posted;
  const last = c.lastSeenAt && c.publishedAt && c.lastSeenAt.getTime() - c.publishedAt.getTime() >= 60_000 ? `, last ${ago(c.lastSeenAt, now)}` : '';
  return `${posted}, bumped ${c.bumpCount}×${last}`;
}

const money = (n: number) => (Number.isInteger(n) ? `$${n}` : `$${n.toFixed(2)}`);
function rateText(c: PublicCard): string | null {
  if (c.rateMin !== null && c.rateMax !== null && c.rateMin !== c.rateMax) return `${money(c.rateMin)}–${money(c.rateMax).slice(1)}/h`;
  const one = c.rateMin ?? c.rateMax;
  if (one !== null) return `${money(one)}/h`;
  return c.rateText;
}

/** Postal coordinates are sector-precision (a few km), so distances are shown rounded. */
export function distanceText(m: number): string {
  if (m < 1000) return 'under 1 km';
  return m < 10_000 ? `about ${(m / 1000).toFixed(1)} km` : `about ${Math.round(m / 1000)} km`;
}

const TIER_LABEL: Record<string, string> = { green: 'fresh', yellow: 'recent', orange: 'older', red: 'old' };

/** Tier from the source's age with the expiry job's policy (the stored tier can lag between job runs). */
function tierOf(c: PublicCard, now: Date, policy: FreshnessPolicy): string {
  const seen = c.lastSeenAt ?? c.publishedAt;
  return seen ? freshnessTier((now.getTime() - seen.getTime()) / 3_600_000, policy) : (c.freshness ?? 'none');
}

function card(c: PublicCard, now: Date, policy: FreshnessPolicy): string {
  const tier = tierOf(c, now, policy);
  const title = c.title ?? (c.subjects.join(', ') || 'Tuition assignment');
  const rows: [string, string | null][] = [
    ['Level', (c.specificLevels.length ? c.specificLevels : c.levels).join(', ') || null],
    ['Subjects', c.subjects.join(', ') || null],
    ['Mode', c.mode],
    ['Location', [c.address.join('; '), c.region].filter(Boolean).join(' · ') || null],
    ['MRT', c.mrt.join(', ') || null],
    ['Schedule', c.schedule.join('; ') || null],
    ['Start', c.startDate],
    ['Tutor', c.tutorTypes.join(', ') || null],
    ['Remarks', c.remarks],
  ];
  const rate = rateText(c);
  const link = c.link && /^https:\/\/t\.me\//.test(c.link) ? c.link : null;
  return `<article class="card" data-testid="card" data-id="${esc(c.id)}"${c.distanceM !== null ? ` data-distance-m="${esc(c.distanceM)}"` : ''}>
<h2>${esc(title)}</h2>
<p class="meta"><span class="tier t-${esc(tier)}" title="${esc(TIER_LABEL[tier] ?? 'freshness unknown')}"></span><span data-testid="freshness">${esc(freshnessText(c, now))}</span> · ${esc(c.agency)}${c.code ? ` · ${esc(c.code)}` : ''}</p>
<dl>${rate ? `<dt>Rate</dt><dd class="rate">${esc(rate)}</dd>` : ''}${c.distanceM !== null ? `<dt>Distance</dt><dd class="dist" data-testid="distance">${esc(distanceText(c.distanceM))}</dd>` : ''}${rows
    .filter((r): r is [string, string] => r[1] !== null && r[1] !== '')
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join('')}</dl>
${link ? `<a class="open" href="${esc(link)}" rel="noopener noreferrer nofollow">Open the original post</a>` : ''}
</article>`;
}

function select(name: string, label: string, current: string | number | null, facet: { any: number; options: FacetOption[] }): string {
  const cur = current === null ? null : String(current);
  const opts = facet.options.map((o) =>
    o.value === null
      ? `<option disabled value="">${esc(o.label)} (${o.count})</option>`
      : `<option value="${esc(o.value)}"${o.value === cur ? ' selected' : ''}>${esc(o.label)} (${o.count})</option>`,
  );
  if (cur !== null && !facet.options.some((o) => o.value === cur)) opts.unshift(`<option value="${esc(cur)}" selected>${esc(cur)} (0)</option>`);
  return `<label>${esc(label)}<select name="${name}" data-testid="filter-${name}"><option value="">Any (${facet.any})</option>${opts.join('')}</select></label>`;
}

function filtersForm(q: PublicQuery, r: PublicResult): string {
  const active = [q.subject, q.level, q.region, q.mode, q.agency, q.minrate, q.q, q.near].some((v) => v !== null);
  const more = [q.region, q.mode, q.agency, q.minrate, q.near].filter((v) => v !== null).length;
  return `<form method="get" action="/assignments" data-testid="filters">
<label class="wide">Search<input type="search" name="q" maxlength="200" value="${esc(q.q ?? '')}" placeholder="e.g. Bishan, chemistry, IB" data-testid="filter-q"></label>
${select('subject', 'Subject', q.subject, r.facets.subject)}
${select('level', 'Level', q.level, r.facets.level)}
<details class="wide"${more ? ' open' : ''} data-testid="more-filters"><summary>More filters and distance sort${more ? ` (${more} set)` : ''}</summary><div class="more">
${select('region', 'Region', q.region, r.facets.region)}
${select('mode', 'Lesson mode', q.mode, r.facets.mode)}
${select('agency', 'Agency', q.agency, r.facets.agency)}
${select('minrate', 'Minimum rate', q.minrate, r.facets.minrate)}
<label class="wide">Sort by distance from postal code<input name="near" inputmode="numeric" maxlength="20" value="${esc(q.near?.code ?? '')}" placeholder="e.g. 570123" data-testid="filter-near"></label>
</div></details>
<div class="btns"><button type="submit" data-testid="apply">Show assignments</button>${active ? '<a href="/assignments">Clear filters</a>' : ''}</div>
</form>`;
}

export function publicPageHtml(q: PublicQuery, r: PublicResult, now: Date, policy: FreshnessPolicy): string {
  const summary = `<p class="summary" data-testid="summary"><strong data-testid="total">${r.total}</strong> open assignment${r.total === 1 ? '' : 's'}${
    q.near ? ` · nearest to ${esc(q.near.code)} first` : ' · newest first'
  }</p>`;
  const list = r.cards.length
    ? r.cards.map((c) => card(c, now, policy)).join('\n')
    : `<div class="empty" data-testid="empty">${q.cursor ? 'No more assignments.' : 'No open assignments match these filters.'}</div>`;
  const pager = `<nav class="pager" data-testid="pager">${q.cursor ? `<a href="/assignments${esc(queryString(q))}" data-testid="first-page">« First page</a>` : '<span></span>'}${
    r.nextCursor ? `<a href="/assignments${esc(queryString(q, r.nextCursor))}" data-testid="next-page" rel="next">More assignments »</a>` : ''
  }</nav>`;
  return layout('TutorDex · open tuition assignments', `${filtersForm(q, r)}${summary}${list}${pager}`);
}

export interface PublicPageOptions {
  db: Database;
  /** FRESHNESS_*_HOURS and ASSIGNMENT_EXPIRE_HOURS: the tier dot, and the age after which an assignment counts as expired */
  freshness: FreshnessPolicy;
  now?: () => Date;
}

/** The `GET /assignments` handler: 400 with a short reason page for a bad query string, never a 500 for one. */
export function publicAssignmentsHandler(o: PublicPageOptions) {
  return async (c: Context) => {
    const now = o.now?.() ?? new Date();
    const url = c.req.url;
    const at = url.indexOf('?');
    let q: PublicQuery;
    let result: PublicResult;
    try {
      q = parsePublicQuery(at < 0 ? '' : url.slice(at + 1).replace(/#.*$/, ''));
      result = await queryPublicAssignments(o.db, q, { expireHours: o.freshness.expireHours, now });
    } catch (err) {
      if (err instanceof PublicQueryError) return c.html(badRequestPage(err.message), 400);
      throw err;
    }
    c.header('Cache-Control', 'public, max-age=30');
    return c.html(publicPageHtml(q, result, now, o.freshness));
  };
}
