/**
 * The operator dashboard (issue 7 item 4): one self-contained HTML document — inline CSS and vanilla JS, no
 * framework, no CDN, no external fonts — that reads the read-only JSON API (`src/web/api-types.ts`) with
 * same-origin fetches. Every API value is untrusted (raw Telegram posts): the script builds the DOM with
 * createElement/textContent only and never assigns HTML strings.
 *
 * Routes live in the URL hash so views can be linked: `#/` (overview), `#/assignments?subject=&level=&region=
 * &status=&q=&page=`, `#/assignments/<id>` (detail), `#/ab?a=&b=`. A path of `/assignments/<id>` without a hash
 * opens that detail too, so the server may serve this page there.
 *
 * Test hooks (data-testid): health, error-banner, nav-*, queue-table, queue-empty, throughput-chart,
 * failures-table, runs-table, catchup, filter-subject, filter-level, filter-region, filter-status, filter-q,
 * assignments-table, assignment-row, assignments-empty, pager, page-prev, page-next, assignment-detail,
 * raw-text, ab-form, ab-a, ab-b, ab-result, ab-field, agencies, agencies-table, agency-row, agencies-empty, engagement.
 */

const CSS = String.raw`
:root{--bg:#f5f6f8;--card:#fff;--ink:#1d2330;--muted:#6b7280;--line:#e3e6eb;--accent:#2563eb;--ok:#15803d;--okbg:#dcfce7;
--bad:#b91c1c;--badbg:#fee2e2;--warn:#a16207;--warnbg:#fef3c7;--skip:#9ca3af}
*{box-sizing:border-box}
html,body{margin:0;padding:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{position:sticky;top:0;z-index:5;display:flex;align-items:center;gap:24px;padding:0 24px;height:52px;background:#111827;color:#f9fafb}
header h1{font-size:17px;margin:0;font-weight:650;letter-spacing:.2px}
header h1 span{color:#9ca3af;font-weight:400;margin-left:6px;font-size:13px}
nav{display:flex;gap:4px;flex:1}
nav a{color:#d1d5db;text-decoration:none;padding:6px 12px;border-radius:6px}
nav a:hover{background:#1f2937;color:#fff}
nav a.active{background:#374151;color:#fff}
.pill{display:inline-flex;align-items:center;gap:6px;padding:3px 10px;border-radius:999px;font-size:12px;font-weight:600;white-space:nowrap}
.pill::before{content:"";width:8px;height:8px;border-radius:50%;background:currentColor}
.pill.ok{background:var(--okbg);color:var(--ok)}.pill.bad{background:var(--badbg);color:var(--bad)}.pill.unknown{background:#e5e7eb;color:#4b5563}
main{max-width:1240px;margin:0 auto;padding:18px 20px 40px}
.banner{display:none;margin-bottom:14px;padding:10px 14px;border-radius:8px;background:var(--badbg);color:var(--bad);border:1px solid #fca5a5}
.banner.show{display:flex;gap:12px;align-items:center}
.banner button,.banner .btn{margin-left:auto}
.btn{display:inline-block;padding:5px 12px;border-radius:6px;background:var(--bad);color:#fff;text-decoration:none;font-weight:600;font-size:13px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.span2{grid-column:1 / -1}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;min-width:0;overflow-x:auto}
td.nowrap{white-space:nowrap}
.card h2{font-size:14px;margin:0 0 10px;font-weight:650;display:flex;align-items:baseline;gap:8px}
.card h2 small{color:var(--muted);font-weight:400;font-size:12px}
table{width:100%;border-collapse:collapse;font-size:13px}
th{text-align:left;color:var(--muted);font-weight:600;font-size:12px;border-bottom:1px solid var(--line);padding:6px 8px;white-space:nowrap}
td{border-bottom:1px solid #f0f1f4;padding:6px 8px;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.live td{background:#eff6ff}
tbody tr.click{cursor:pointer}
tbody tr.click:hover td{background:#f3f6fd}
.badge{display:inline-block;padding:1px 7px;border-radius:4px;font-size:11px;font-weight:600;background:#e5e7eb;color:#374151;white-space:nowrap}
.badge.live,.badge.open,.badge.ok,.badge.sent,.badge.green{background:var(--okbg);color:var(--ok)}
.badge.failed,.badge.error,.badge.red,.badge.closed{background:var(--badbg);color:var(--bad)}
.badge.running,.badge.processing,.badge.pending,.badge.amber,.badge.yellow,.badge.expired{background:var(--warnbg);color:var(--warn)}
.muted{color:var(--muted)}
.empty{padding:22px 12px;text-align:center;color:var(--muted);background:#fafbfc;border:1px dashed var(--line);border-radius:8px}
.trunc{max-width:420px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;line-height:1.6}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:end;margin-bottom:12px}
.filters label{display:flex;flex-direction:column;gap:3px;font-size:12px;color:var(--muted)}
select,input[type=text],input[type=search]{font:inherit;font-size:13px;padding:5px 8px;border:1px solid #cfd4dc;border-radius:6px;background:#fff;color:var(--ink);min-width:150px}
input[type=search]{min-width:240px}
button{font:inherit;font-size:13px;padding:5px 12px;border:1px solid #cfd4dc;border-radius:6px;background:#fff;color:var(--ink);cursor:pointer}
button:hover:not(:disabled){border-color:var(--accent);color:var(--accent)}
button:disabled{opacity:.45;cursor:default}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
button.primary:hover{color:#fff;filter:brightness(1.08)}
.pager{display:flex;align-items:center;gap:10px;justify-content:flex-end;margin-top:10px;color:var(--muted);font-size:12px}
.detail{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:16px;align-items:start}
.detail>.card{position:sticky;top:68px}
.detail>div{display:grid;gap:16px;align-content:start}
.detail-head{display:flex;align-items:center;gap:12px;margin-bottom:12px}
.detail-head h2{margin:0;font-size:17px}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0;font-size:13px}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0;word-break:break-word;white-space:pre-wrap}
pre.raw{white-space:pre-wrap;word-break:break-word;background:#f8fafc;border:1px solid var(--line);border-radius:8px;padding:12px;margin:0;font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;max-height:560px;overflow:auto}
pre.json{white-space:pre-wrap;word-break:break-word;background:#f8fafc;border-radius:6px;padding:8px;font-size:11px;max-height:300px;overflow:auto}
details summary{cursor:pointer;color:var(--accent);font-size:12px;margin-top:8px}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:10px;margin-bottom:14px}
.stat{background:#f8fafc;border:1px solid var(--line);border-radius:8px;padding:8px 12px}
.stat b{display:block;font-size:20px;font-variant-numeric:tabular-nums}
.stat span{font-size:12px;color:var(--muted)}
.bar{position:relative;height:14px;background:#eef0f3;border-radius:4px;overflow:hidden;min-width:160px}
.bar i{position:absolute;left:0;top:0;bottom:0;background:var(--accent);border-radius:4px}
.bar.hi i{background:var(--ok)}.bar.lo i{background:var(--bad)}.bar.mid i{background:#d97706}
.legend{display:flex;gap:12px;font-size:11px;color:var(--muted);margin-top:4px}
.legend i{display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:4px;vertical-align:-1px}
a{color:var(--accent)}
.view{display:none}.view.show{display:block}
.loading{color:var(--muted);font-size:12px}
`;

const SCRIPT = String.raw`
(function () {
  'use strict';
  var PAGE_SIZE_DEFAULT = 50;
  var EMPTY_HINT = 'No assignments yet \u2014 run tutordex start or tutordex worker';
  var state = { facets: null, versions: [], lastList: null };
  var timer = null;

  // ---------- DOM helpers (textContent only: API data is untrusted) ----------
  function el(tag, attrs, children) {
    var n = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
        var v = attrs[k];
        if (v === null || v === undefined || v === false) continue;
        if (k === 'text') n.textContent = String(v);
        else if (k === 'cls') n.className = v;
        else if (k === 'testid') n.setAttribute('data-testid', v);
        else if (k.slice(0, 2) === 'on') n.addEventListener(k.slice(2), v);
        else n.setAttribute(k, String(v));
      }
    }
    append(n, children);
    return n;
  }
  function append(n, children) {
    if (children === null || children === undefined) return n;
    if (!Array.isArray(children)) children = [children];
    for (var i = 0; i < children.length; i++) {
      var c = children[i];
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) { append(n, c); continue; }
      n.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return n;
  }
  function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); return n; }
  function $(id) { return document.getElementById(id); }
  function svg(tag, attrs) {
    var n = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) n.setAttribute(k, String(attrs[k]));
    return n;
  }
  function safeHref(u) {
    if (typeof u !== 'string') return null;
    return /^https?:\/\//i.test(u) ? u : null;
  }
  function link(u, label) {
    var h = safeHref(u);
    if (!h) return document.createTextNode(label === undefined ? (u == null ? '\u2014' : String(u)) : String(label));
    return el('a', { href: h, target: '_blank', rel: 'noopener noreferrer', text: label === undefined ? u : label });
  }
  function badge(s) { return el('span', { cls: 'badge ' + String(s || '').toLowerCase().replace(/[^a-z0-9_-]/g, ''), text: s == null ? '\u2014' : s }); }
  function empty(msg, testid) { return el('div', { cls: 'empty', testid: testid, text: msg }); }
  function num(n) { return n === null || n === undefined ? '\u2014' : Number(n).toLocaleString('en-US'); }
  function pct(x) { return x === null || x === undefined ? 'n/a' : (x * 100).toFixed(1) + '%'; }
  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function fmtTime(iso) {
    if (!iso) return '\u2014';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }
  function ago(iso) {
    if (!iso) return '';
    var s = (Date.now() - new Date(iso).getTime()) / 1000;
    if (!isFinite(s)) return '';
    return dur(Math.max(0, s)) + ' ago';
  }
  function dur(s) {
    if (s === null || s === undefined || !isFinite(s)) return '\u2014';
    if (s < 60) return Math.round(s) + 's';
    if (s < 3600) return Math.round(s / 60) + 'm';
    if (s < 86400) return (s / 3600).toFixed(1) + 'h';
    return (s / 86400).toFixed(1) + 'd';
  }
  function timeCell(iso) { return el('td', { cls: 'nowrap', text: fmtTime(iso), title: iso ? iso + ' (' + ago(iso) + ')' : null }); }
  function short(v) {
    if (v === null || v === undefined) return '\u2014';
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    try { return JSON.stringify(v); } catch (e) { return String(v); }
  }
  function table(testid, headers, rows) {
    var thead = el('thead', null, el('tr', null, headers.map(function (h) {
      var num = h.charAt(0) === '#';
      return el('th', { cls: num ? 'num' : null, text: num ? h.slice(1) : h });
    })));
    return el('table', { testid: testid }, [thead, el('tbody', null, rows)]);
  }
  function card(title, sub, body, cls) {
    return el('section', { cls: 'card' + (cls ? ' ' + cls : '') }, [el('h2', null, [title, sub ? el('small', { text: sub }) : null]), body]);
  }

  // ---------- API ----------
  function ApiError(status, message) { this.status = status; this.message = message; }
  function api(path, opts) {
    return fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (res) {
      return res.text().then(function (body) {
        var data = null;
        try { data = body ? JSON.parse(body) : null; } catch (e) { data = null; }
        if (res.ok || (opts && opts.allow && opts.allow.indexOf(res.status) >= 0 && data)) return { status: res.status, data: data };
        var msg = data && typeof data.error === 'string' ? data.error : res.status + ' ' + res.statusText;
        throw new ApiError(res.status, msg);
      });
    }, function (e) { throw new ApiError(0, 'network error: ' + (e && e.message ? e.message : e)); });
  }
  function showError(err, what) {
    var b = $('banner');
    clear(b);
    if (err && err.status === 401) {
      append(b, [el('strong', { text: 'Log in required.' }), ' The API answered 401 Unauthorized \u2014 log in with the dashboard token to see ' + what + '.',
        el('a', { href: '/login', cls: 'btn', testid: 'login-link', text: 'Log in' })]);
    } else {
      append(b, [el('strong', { text: 'API error.' }), ' Could not load ' + what + ': ' + (err && err.message ? err.message : String(err)),
        el('button', { text: 'Retry', onclick: function () { route(); } })]);
    }
    b.className = 'banner show';
  }
  function hideError() { $('banner').className = 'banner'; }

  // ---------- health ----------
  function loadHealth() {
    var p = $('health');
    return api('/health', { allow: [503, 500] }).then(function (r) {
      var h = r.data || { ok: false, checks: [] };
      var failing = (h.checks || []).filter(function (c) { return !c.ok; });
      p.className = 'pill ' + (h.ok ? 'ok' : 'bad');
      p.textContent = h.ok ? 'healthy' : (failing.length ? failing.map(function (c) { return c.name; }).join(', ') + ' failing' : 'unhealthy');
      p.title = (h.checks || []).map(function (c) { return (c.ok ? '\u2713 ' : '\u2717 ') + c.name + ': ' + c.detail; }).join('\n');
    }, function (e) {
      p.className = 'pill ' + (e.status === 401 ? 'unknown' : 'bad');
      p.textContent = e.status === 401 ? 'log in' : 'health unavailable';
      p.title = e.message;
    });
  }

  // ---------- overview ----------
  function renderQueue(q) {
    var box = clear($('queue'));
    state.versions = (q.versions || []).map(function (v) { return v.version; });
    fillVersionList();
    if (!q.versions || !q.versions.length) {
      append(box, empty('No extraction jobs yet \u2014 run tutordex start or tutordex worker', 'queue-empty'));
    } else {
      append(box, table('queue-table', ['Version', '#Pending', '#Processing', '#OK', '#Failed', '#Skipped', '#Oldest'], q.versions.map(function (v) {
        var c = v.counts || {};
        return el('tr', { cls: v.live ? 'live' : null, 'data-version': v.version }, [
          el('td', { cls: 'nowrap' }, [el('span', { cls: 'mono', text: v.version }), v.live ? ' ' : null, v.live ? badge('live') : null]),
          el('td', { cls: 'num', text: num(c.pending) }), el('td', { cls: 'num', text: num(c.processing) }),
          el('td', { cls: 'num', text: num(c.ok) }), el('td', { cls: 'num', text: num(c.failed) }),
          el('td', { cls: 'num', text: num(c.skipped) }),
          el('td', { cls: 'num', text: v.oldest_pending_age_s === null ? '\u2014' : dur(v.oldest_pending_age_s) })]);
      })));
    }
    renderThroughput(q.throughput || []);
    var f = clear($('failures'));
    if (!q.failures || !q.failures.length) append(f, empty('No failed jobs.', 'failures-empty'));
    else append(f, table('failures-table', ['When', 'Version', 'Source', 'Error', 'Message'], q.failures.map(function (x) {
      var src = (x.channel_link || 'raw ' + x.raw_id) + (x.message_id !== null && x.message_id !== undefined ? ' #' + x.message_id : '');
      return el('tr', null, [timeCell(x.at), el('td', { cls: 'mono', text: x.pipeline_version }),
        el('td', { cls: 'trunc', title: src, text: src }), el('td', null, badge(x.error_type || 'error')),
        el('td', null, el('div', { cls: 'trunc', title: x.message || '', text: x.message || '\u2014' }))]);
    })));
  }
  function renderThroughput(raw) {
    var box = clear($('throughput'));
    // the API may list only the minutes that had jobs: lay them on a fixed 60-minute axis ending now
    var MIN = 60000, end = Math.floor(Date.now() / MIN) * MIN;
    raw.forEach(function (m) { var x = Math.floor(new Date(m.minute).getTime() / MIN) * MIN; if (x > end) end = x; });
    var t = [];
    for (var i = 0; i < 60; i++) t.push({ minute: new Date(end - (59 - i) * MIN).toISOString(), ok: 0, skipped: 0, failed: 0 });
    raw.forEach(function (m) {
      var idx = 59 - Math.round((end - Math.floor(new Date(m.minute).getTime() / MIN) * MIN) / MIN);
      var s = t[idx];
      if (!s) return;
      s.ok += m.ok || 0; s.skipped += m.skipped || 0; s.failed += m.failed || 0;
    });
    var total = 0, max = 0;
    t.forEach(function (m) { var s = (m.ok || 0) + (m.skipped || 0) + (m.failed || 0); total += s; if (s > max) max = s; });
    if (total === 0) { append(box, empty('No jobs finished in the last hour.', 'throughput-empty')); return; }
    var W = 560, H = 120, top = 8, bottom = 18, left = 28, n = t.length;
    var bw = (W - left) / n;
    var s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%', height: H, role: 'img', 'data-testid': 'throughput-chart', 'aria-label': 'jobs finished per minute' });
    var scale = function (v) { return (v / max) * (H - top - bottom); };
    s.appendChild(svg('line', { x1: left, x2: W, y1: H - bottom, y2: H - bottom, stroke: '#d1d5db' }));
    var lab = svg('text', { x: left - 4, y: top + 8, 'text-anchor': 'end', 'font-size': 10, fill: '#6b7280' }); lab.textContent = String(max); s.appendChild(lab);
    var zero = svg('text', { x: left - 4, y: H - bottom, 'text-anchor': 'end', 'font-size': 10, fill: '#6b7280' }); zero.textContent = '0'; s.appendChild(zero);
    t.forEach(function (m, i) {
      var y = H - bottom, x = left + i * bw + 1, w = Math.max(bw - 2, 1);
      var g = svg('g', {});
      var tt = svg('title', {}); tt.textContent = fmtTime(m.minute) + ' \u2014 ok ' + m.ok + ', skipped ' + m.skipped + ', failed ' + m.failed; g.appendChild(tt);
      [['ok', '#16a34a'], ['skipped', '#9ca3af'], ['failed', '#dc2626']].forEach(function (p) {
        var v = m[p[0]] || 0; if (!v) return;
        var h = scale(v); y -= h;
        g.appendChild(svg('rect', { x: x, y: y, width: w, height: h, fill: p[1] }));
      });
      s.appendChild(g);
    });
    [[0, 'start'], [t.length - 1, 'end']].forEach(function (p) {
      var m = t[p[0]]; if (!m) return;
      var tx = svg('text', { x: p[1] === 'start' ? left : W, y: H - 4, 'text-anchor': p[1], 'font-size': 10, fill: '#6b7280' });
      tx.textContent = fmtTime(m.minute).slice(11); s.appendChild(tx);
    });
    append(box, [s, el('div', { cls: 'legend' }, [
      el('span', null, [el('i', { style: 'background:#16a34a' }), 'ok']), el('span', null, [el('i', { style: 'background:#9ca3af' }), 'skipped']),
      el('span', null, [el('i', { style: 'background:#dc2626' }), 'failed']), el('span', { text: total.toLocaleString('en-US') + ' jobs in the last hour' })])]);
  }
  function totalsText(t) {
    if (!t || typeof t !== 'object') return '\u2014';
    var parts = [];
    for (var k in t) if (Object.prototype.hasOwnProperty.call(t, k)) parts.push(k + ' ' + short(t[k]));
    return parts.length ? parts.join(' \u00b7 ') : '\u2014';
  }
  function runDuration(r) {
    var end = r.finished_at || r.heartbeat_at;
    if (!end || !r.started_at) return '\u2014';
    return dur((new Date(end).getTime() - new Date(r.started_at).getTime()) / 1000);
  }
  function channelsText(ch) {
    if (!ch || !ch.length) return '\u2014';
    return ch.length <= 2 ? ch.join(', ') : ch.slice(0, 2).join(', ') + ' +' + (ch.length - 2);
  }
  function renderRuns(r) {
    var box = clear($('runs'));
    var runs = (r.runs || []).slice(0, 20);
    if (!runs.length) { append(box, empty('No ingestion runs yet \u2014 run tutordex start or tutordex collector.', 'runs-empty')); return; }
    append(box, table('runs-table', ['#ID', 'Type', 'Status', 'Started', 'Duration', 'Channels', 'Totals'], runs.map(function (x) {
      var tt = totalsText(x.totals);
      return el('tr', null, [el('td', { cls: 'num', text: x.id }), el('td', { text: x.run_type }), el('td', null, badge(x.status)),
        timeCell(x.started_at), el('td', { text: runDuration(x), title: x.finished_at ? 'finished ' + x.finished_at : (x.heartbeat_at ? 'last heartbeat ' + x.heartbeat_at : '') }),
        el('td', { title: (x.channels || []).join('\n'), text: channelsText(x.channels) }), el('td', null, el('div', { cls: 'trunc', style: 'max-width:300px', title: tt, text: tt }))]);
    })));
  }
  function renderCatchup(c) {
    var box = clear($('catchup'));
    if (!c.latest) { append(box, empty('No catch-up run yet.', 'catchup-empty')); return; }
    var l = c.latest;
    append(box, el('dl', { cls: 'kv', style: 'margin-bottom:10px' }, [
      el('dt', { text: 'Run' }), el('dd', null, ['#' + l.id + ' ', badge(l.status)]),
      el('dt', { text: 'Started' }), el('dd', { text: fmtTime(l.started_at) + ' (' + ago(l.started_at) + ')' }),
      el('dt', { text: l.finished_at ? 'Finished' : 'Heartbeat' }), el('dd', { text: fmtTime(l.finished_at || l.heartbeat_at) }),
      el('dt', { text: 'Totals' }), el('dd', { text: totalsText(l.totals) })]));
    if (!c.channels || !c.channels.length) { append(box, el('div', { cls: 'muted', text: 'No per-channel progress recorded.' })); return; }
    append(box, table('catchup-table', ['Channel', '#Scanned', '#Inserted', '#Updated', 'Last message'], c.channels.map(function (x) {
      return el('tr', null, [el('td', { cls: 'trunc', style: 'max-width:220px', title: x.channel_link, text: x.channel_link }),
        el('td', { cls: 'num', text: num(x.scanned) }), el('td', { cls: 'num', text: num(x.inserted) }), el('td', { cls: 'num', text: num(x.updated) }),
        timeCell(x.last_message_date)]);
    })));
  }
  function fbText(f) {
    if (!f) return 'n/a';
    return 'not for me ' + num(f.not_for_me) + ' \u00b7 filled ' + num(f.filled) + ' \u00b7 scam ' + num(f.scam);
  }
  function clicksText(c) {
    if (!c) return '\u2014';
    return num(c.total) + ' (channel ' + num(c.broadcast) + ', DM ' + num(c.dm) + ')';
  }
  function renderAgencies(r) {
    var box = clear($('agencies'));
    var list = (r && r.agencies) || [];
    if (!list.length) { append(box, empty('No assignments yet.', 'agencies-empty')); return; }
    append(box, table('agencies-table', ['Agency', '#Assignments', '#Open', '#Broadcasts', '#DMs', '#Clicks', '#Clicks channel', '#Clicks DM', '#Not for me', '#Filled', '#Scam'], list.map(function (x) {
      var f = x.feedback;
      return el('tr', { testid: 'agency-row' }, [el('td', { text: x.agency, title: x.channel_link }), el('td', { cls: 'num', text: num(x.assignments) }), el('td', { cls: 'num', text: num(x.open) }),
        el('td', { cls: 'num', text: num(x.broadcasts_sent) }), el('td', { cls: 'num', text: num(x.dms_sent) }),
        el('td', { cls: 'num', text: num(x.clicks && x.clicks.total) }), el('td', { cls: 'num', text: num(x.clicks && x.clicks.broadcast) }), el('td', { cls: 'num', text: num(x.clicks && x.clicks.dm) }),
        el('td', { cls: 'num', text: f ? num(f.not_for_me) : 'n/a' }), el('td', { cls: 'num', text: f ? num(f.filled) : 'n/a' }), el('td', { cls: 'num', text: f ? num(f.scam) : 'n/a' })]);
    })));
  }
  function loadOverview() {
    var what = 'the overview';
    // The agency summary loads on its own: a failure there only empties its card.
    api('/api/agencies').then(function (r) { renderAgencies(r.data); }, function (e) {
      append(clear($('agencies')), empty('Agency summary unavailable: ' + (e && e.message ? e.message : e), 'agencies-empty'));
    });
    return Promise.all([api('/api/queue'), api('/api/runs'), api('/api/catchup')]).then(function (rs) {
      hideError();
      renderQueue(rs[0].data); renderRuns(rs[1].data); renderCatchup(rs[2].data);
      $('updated').textContent = 'updated ' + fmtTime(new Date().toISOString()).slice(11);
    }, function (e) { showError(e, what); });
  }

  // ---------- assignments ----------
  var FILTERS = ['subject', 'level', 'region', 'status', 'q'];
  function parseQuery(s) {
    var out = {};
    new URLSearchParams(s || '').forEach(function (v, k) { out[k] = v; });
    return out;
  }
  function listParams(p) {
    var u = new URLSearchParams();
    FILTERS.forEach(function (k) { if (p[k]) u.set(k, p[k]); });
    if (p.page && Number(p.page) > 1) u.set('page', String(p.page));
    return u.toString();
  }
  function readFilters() {
    var p = {};
    FILTERS.forEach(function (k) { var v = $('f-' + k).value.trim(); if (v) p[k] = v; });
    if (p.status === 'open') delete p.status;
    return p;
  }
  function setOptions(sel, values, current, allLabel) {
    var keep = current || '';
    clear(sel);
    sel.appendChild(el('option', { value: '', text: allLabel }));
    var vs = (values || []).slice();
    if (keep && vs.indexOf(keep) < 0) vs.unshift(keep);
    vs.forEach(function (v) { sel.appendChild(el('option', { value: v, text: v })); });
    sel.value = keep;
  }
  function syncFilters(p, facets) {
    if (facets) {
      setOptions($('f-subject'), facets.subjects, p.subject, 'All subjects');
      setOptions($('f-level'), facets.levels, p.level, 'All levels');
      setOptions($('f-region'), facets.regions, p.region, 'All regions');
    }
    $('f-status').value = p.status || 'open';
    if (document.activeElement !== $('f-q')) $('f-q').value = p.q || '';
  }
  function goList(p, replace) {
    var h = '#/assignments' + (listParams(p) ? '?' + listParams(p) : '');
    if (replace && location.hash.indexOf('#/assignments?') === 0) location.replace(h); else location.hash = h;
  }
  function rate(a) {
    if (a.rate_min === null && a.rate_max === null) return '\u2014';
    if (a.rate_min !== null && a.rate_max !== null && a.rate_min !== a.rate_max) return '$' + a.rate_min + '\u2013' + a.rate_max;
    return '$' + (a.rate_min !== null ? a.rate_min : a.rate_max);
  }
  function loadList(p) {
    showView('list');
    syncFilters(p, state.facets);
    var qs = listParams(p);
    var box = $('list');
    if (!box.firstChild) append(box, el('div', { cls: 'loading', text: 'Loading\u2026' }));
    return api('/api/assignments' + (qs ? '?' + qs : '')).then(function (r) {
      hideError();
      var d = r.data;
      state.facets = d.facets; state.lastList = p;
      syncFilters(p, d.facets);
      clear(box);
      var filtered = FILTERS.some(function (k) { return p[k] && !(k === 'status' && p[k] === 'open'); });
      var items = d.items || [];
      if (!items.length) {
        if (d.total === 0 && !filtered) append(box, empty(EMPTY_HINT, 'assignments-empty'));
        else append(box, empty('No assignments match these filters.', 'assignments-empty'));
        $('list-count').textContent = '';
        return;
      }
      $('list-count').textContent = num(d.total) + ' ' + (p.status === 'all' ? 'in total' : (p.status || 'open'));
      append(box, table('assignments-table', ['#ID', 'Assignment', 'Region', 'Mode', '#Rate', 'Agency', 'Published', 'Status'], items.map(function (a) {
        var title = a.academic_display_text || (a.subjects || []).concat(a.levels || []).join(' \u00b7 ') || '(no academic text)';
        var tags = (a.levels || []).concat(a.subjects || []).join(' \u00b7 ');
        return el('tr', { cls: 'click', testid: 'assignment-row', 'data-id': a.id, tabindex: 0,
          onclick: function () { location.hash = '#/assignments/' + a.id; },
          onkeydown: function (ev) { if (ev.key === 'Enter') location.hash = '#/assignments/' + a.id; } }, [
          el('td', { cls: 'num mono', text: a.id }),
          el('td', null, [el('div', { cls: 'trunc', style: 'font-weight:550', title: title, text: title }), tags ? el('div', { cls: 'muted trunc', style: 'font-size:12px', text: tags }) : null]),
          el('td', { text: a.region || '\u2014' }), el('td', { text: a.learning_mode || '\u2014' }), el('td', { cls: 'num', text: rate(a) }),
          el('td', { text: a.agency }),
          el('td', { title: a.published_at ? a.published_at + (a.bump_count ? ' \u00b7 bumped ' + a.bump_count + '\u00d7' : '') : null, text: fmtTime(a.published_at) + (a.bump_count ? ' \u2191' + a.bump_count : '') }),
          el('td', null, [badge(a.status), a.freshness_tier && a.status === 'open' ? ' ' : null, a.freshness_tier && a.status === 'open' ? badge(a.freshness_tier) : null])]);
      })));
      var size = d.page_size || PAGE_SIZE_DEFAULT, page = d.page || 1, pages = Math.max(1, Math.ceil(d.total / size));
      var from = (page - 1) * size + 1, to = Math.min(d.total, from + items.length - 1);
      append(box, el('div', { cls: 'pager', testid: 'pager' }, [
        el('span', { text: 'Showing ' + num(from) + '\u2013' + num(to) + ' of ' + num(d.total) + ' \u00b7 page ' + page + ' of ' + pages }),
        el('button', { testid: 'page-prev', text: '\u2190 Prev', disabled: page <= 1 ? 'disabled' : null, onclick: function () { var q = Object.assign({}, p); q.page = page - 1; goList(q); } }),
        el('button', { testid: 'page-next', text: 'Next \u2192', disabled: page >= pages ? 'disabled' : null, onclick: function () { var q = Object.assign({}, p); q.page = page + 1; goList(q); } })]));
    }, function (e) { clear(box); showError(e, 'assignments'); });
  }
  function kvList(pairs) {
    var dl = el('dl', { cls: 'kv' });
    pairs.forEach(function (p) {
      if (p[1] === undefined) return;
      dl.appendChild(el('dt', { text: p[0] }));
      dl.appendChild(p[1] instanceof Node ? el('dd', null, p[1]) : el('dd', { text: short(p[1]) }));
    });
    return dl;
  }
  function get(o, path) {
    var cur = o, ks = path.split('.');
    for (var i = 0; i < ks.length; i++) { if (!cur || typeof cur !== 'object') return undefined; cur = cur[ks[i]]; }
    return cur;
  }
  function metaSummary(m) {
    var pairs = [];
    var add = function (label, v) { if (v !== undefined && v !== null) pairs.push([label, v]); };
    add('Extractor', get(m, 'extractor.model') || get(m, 'extractor.kind') || get(m, 'extractor.name'));
    var lat = get(m, 'extractor.latency_ms'); if (typeof lat === 'number') add('Latency', Math.round(lat) + ' ms');
    var ch = get(m, 'extractor.cache_hit'); if (typeof ch === 'boolean') add('Reused result', ch ? 'yes' : 'no');
    var tok = get(m, 'extractor.usage.total_tokens'); if (typeof tok === 'number') add('Tokens', num(tok));
    var tm = get(m, 'total_ms'); if (typeof tm === 'number') add('Total time', Math.round(tm) + ' ms');
    var st = get(m, 'stages');
    if (st && typeof st === 'object') { var sum = 0; for (var k in st) if (typeof st[k] === 'number') sum += st[k]; add('Stages', Math.round(sum) + ' ms'); }
    add('Parse quality', get(m, 'parse_quality_score'));
    add('Status detected', get(m, 'status_detection.status'));
    add('Region (geo)', get(m, 'geo.region'));
    var v = get(m, 'hard_validation.violations'); if (Array.isArray(v)) add('Validation', v.length ? v.length + ' violation(s): ' + v.map(function (x) { return x && typeof x === 'object' && (x.code || x.field) ? [x.code, x.field].filter(Boolean).join(' ') + (x.detail ? ' \u2014 ' + short(x.detail) : '') : short(x); }).join('; ') : 'no violations');
    var sg = get(m, 'signals.ok'); if (typeof sg === 'boolean') add('Signals', sg ? 'ok' : 'error: ' + short(get(m, 'signals.error')));
    var tr = get(m, 'triage'); if (tr !== undefined) add('Triage', tr);
    var items = get(m, 'items'); if (Array.isArray(items)) add('Compilation items', items.length);
    var err = get(m, 'error'); if (err !== undefined) add('Error', err);
    return pairs;
  }
  function loadDetail(id) {
    showView('detail');
    var box = clear($('detail'));
    append(box, el('div', { cls: 'loading', text: 'Loading assignment ' + id + '\u2026' }));
    var back = state.lastList || {};
    return api('/api/assignments/' + encodeURIComponent(id)).then(function (r) {
      hideError();
      var d = r.data, a = d.assignment || {};
      clear(box);
      var skip = { id: 1, status: 1, academic_display_text: 1 };
      var fields = [], emptyFields = [];
      for (var k in a) if (Object.prototype.hasOwnProperty.call(a, k) && !skip[k]) {
        var v = a[k];
        if (v === null || v === undefined || v === '' || (Array.isArray(v) && !v.length)) { emptyFields.push(k); continue; }
        if (k === 'message_link' && safeHref(v)) v = link(v);
        else if (typeof v === 'string' && /(_at|_seen|_date)$/.test(k) && !isNaN(Date.parse(v))) v = el('span', { title: v, text: fmtTime(v) + ' (' + ago(v) + ')' });
        else if (Array.isArray(v) && v.every(function (x) { return typeof x !== 'object' || x === null; })) v = v.length ? v.join(', ') : '\u2014';
        else if (v && typeof v === 'object') v = el('pre', { cls: 'json', text: JSON.stringify(v, null, 2) });
        fields.push([k, v]);
      }
      var left = el('div', null, [card('Structured fields', 'assignment #' + a.id, [kvList(fields),
        emptyFields.length ? el('div', { cls: 'muted', style: 'margin-top:8px;font-size:12px', text: 'Empty: ' + emptyFields.join(', ') }) : null])]);
      if (d.extraction) {
        var ex = d.extraction;
        append(left, card('Extraction', '#' + ex.id, [
          kvList([['Pipeline version', ex.pipeline_version], ['Status', badge(ex.status)]].concat(metaSummary(ex.meta || {}))),
          el('details', null, [el('summary', { text: 'Full meta JSON' }), el('pre', { cls: 'json', text: JSON.stringify(ex.meta, null, 2) })])]));
      } else append(left, card('Extraction', null, empty('No extraction recorded.')));
      var dels = d.deliveries || [];
      append(left, card('Deliveries', dels.length ? String(dels.length) : null, dels.length ? table('deliveries-table', ['Kind', 'Recipient', 'Status', 'Sent'], dels.map(function (x) {
        return el('tr', null, [el('td', { text: x.kind }), el('td', { text: x.recipient }), el('td', null, badge(x.status)), timeCell(x.sent_at)]);
      })) : empty('Not delivered to anyone yet.', 'deliveries-empty')));
      if (d.clicks || d.feedback !== undefined) {
        append(left, el('div', { testid: 'engagement' }, card('Engagement', 'link clicks and DM feedback', kvList([
          ['Clicks', clicksText(d.clicks)],
          ['Chats that clicked', d.clicks ? num(d.clicks.chats) : undefined],
          ['Last click', d.clicks && d.clicks.last_click_at ? el('span', { title: d.clicks.last_click_at, text: fmtTime(d.clicks.last_click_at) + ' (' + ago(d.clicks.last_click_at) + ')' }) : '\u2014'],
          ['Feedback', fbText(d.feedback)]]))));
      }
            var raw = d.raw, right;
      if (raw) {
        var src = raw.channel_link + ' #' + raw.message_id;
        var versions = (raw.versions || []);
        right = card('Raw post', fmtTime(raw.message_date), [
          el('div', { cls: 'muted', style: 'margin-bottom:8px;font-size:12px' }, [link(a.message_link, src) , raw.deleted_at ? ' \u00b7 ' : null, raw.deleted_at ? badge('deleted ' + fmtTime(raw.deleted_at)) : null]),
          el('pre', { cls: 'raw', testid: 'raw-text', text: raw.text === null ? '(no text)' : raw.text }),
          versions.length ? el('details', null, [el('summary', { text: versions.length + ' earlier version(s)' })].concat(versions.map(function (v) {
            return el('div', { style: 'margin-top:8px' }, [el('div', { cls: 'muted', style: 'font-size:12px', text: 'edited ' + fmtTime(v.edit_date) }), el('pre', { cls: 'raw', text: v.text === null ? '(no text)' : v.text })]);
          }))) : null]);
      } else right = card('Raw post', null, el('pre', { cls: 'raw', testid: 'raw-text', text: '(raw message not found)' }));
      var title = a.academic_display_text || ('Assignment #' + a.id);
      append(box, el('div', { testid: 'assignment-detail' }, [
        el('div', { cls: 'detail-head' }, [el('button', { text: '\u2190 Back to list', onclick: function () { goList(back); } }),
          el('h2', { text: title }), badge(a.status), a.freshness_tier ? badge(a.freshness_tier) : null]),
        el('div', { cls: 'detail' }, [left, right])]));
      document.title = 'TutorDex \u2014 #' + a.id;
    }, function (e) {
      clear(box);
      if (e.status === 404) append(box, el('div', { testid: 'assignment-detail' }, [empty('Assignment ' + id + ' not found.'), el('button', { text: '\u2190 Back to list', style: 'margin-top:10px', onclick: function () { goList(back); } })]));
      else showError(e, 'assignment ' + id);
    });
  }

  // ---------- A/B ----------
  function fillVersionList() {
    var dl = $('versions');
    clear(dl);
    state.versions.forEach(function (v) { dl.appendChild(el('option', { value: v })); });
  }
  function loadAb(p) {
    var box = clear($('ab-result'));
    $('ab-a').value = p.a || ''; $('ab-b').value = p.b || '';
    if (!p.a || !p.b) { append(box, empty('Pick two pipeline versions to compare the extractions of the same raw messages.')); return Promise.resolve(); }
    append(box, el('div', { cls: 'loading', text: 'Comparing ' + p.a + ' and ' + p.b + '\u2026' }));
    return api('/api/ab?a=' + encodeURIComponent(p.a) + '&b=' + encodeURIComponent(p.b)).then(function (r) {
      hideError();
      var c = r.data;
      clear(box);
      var cnt = c.counts || {};
      var stat = function (v, label) { return el('div', { cls: 'stat' }, [el('b', { text: num(v) }), el('span', { text: label })]); };
      append(box, el('div', { cls: 'stats' }, [stat(cnt.a, 'jobs ' + c.pipelines.a), stat(cnt.b, 'jobs ' + c.pipelines.b), stat(cnt.intersection, 'in both'),
        stat(cnt.both_ok, 'ok in both'), stat(cnt.only_a, 'only ' + c.pipelines.a), stat(cnt.only_b, 'only ' + c.pipelines.b), stat(c.disagreeing_messages, 'messages disagreeing')]));
      var sa = c.sides.a, sb = c.sides.b;
      var dist = function (d) { return d && d.count ? num(d.p50) + ' / ' + num(d.p95) + ' ms' : '\u2014'; };
      var row = function (label, f) { return el('tr', null, [el('td', { cls: 'muted', text: label }), el('td', { cls: 'num', text: f(sa) }), el('td', { cls: 'num', text: f(sb) })]); };
      var sides = table('ab-sides', ['', '#' + c.pipelines.a, '#' + c.pipelines.b], [
        row('Jobs (ok)', function (s) { return num(s.jobs) + ' (' + num(s.ok) + ')'; }),
        row('Latency p50 / p95', function (s) { return dist(s.latency_ms); }),
        row('Stages p50 / p95', function (s) { return dist(s.stages_total_ms); }),
        row('Mean tokens', function (s) { return s.tokens && s.tokens.mean_total !== null ? num(Math.round(s.tokens.mean_total)) : '\u2014'; }),
        row('Reuse rate', function (s) { return pct(s.reuse ? s.reuse.rate : null); }),
        row('Gold micro F1', function (s) { return s.gold ? pct(s.gold.micro) : '\u2014'; })]);
      var fields = (c.fields || []).map(function (f) {
        var a = f.agreement, cls = a === null ? '' : a >= 0.9 ? 'hi' : a >= 0.7 ? 'mid' : 'lo';
        return el('tr', { testid: 'ab-field', 'data-field': f.field }, [el('td', { cls: 'mono', text: f.field }),
          el('td', { style: 'width:40%' }, el('div', { cls: 'bar ' + cls, title: a === null ? 'nothing to compare' : f.agree + ' / ' + f.compared }, el('i', { style: 'width:' + (a === null ? 0 : Math.round(a * 1000) / 10) + '%' }))),
          el('td', { cls: 'num', text: pct(a) }), el('td', { cls: 'num', text: num(f.agree) + ' / ' + num(f.compared) }),
          el('td', { cls: 'num', text: pct(f.fill_a) + ' / ' + pct(f.fill_b) }), el('td', { cls: 'num', text: num(f.both_empty) })]);
      });
      append(box, el('div', { cls: 'grid' }, [card('Sides', null, sides),
        card('Notes', null, (c.notes || []).length ? el('ul', { style: 'margin:0;padding-left:18px;font-size:12px' }, c.notes.map(function (n) { return el('li', { text: n }); })) : el('div', { cls: 'muted', text: 'No notes.' })),
        card('Per-field agreement', 'intersection rows where at least one side has a value', fields.length ? table('ab-fields', ['Field', 'Agreement', '#', '#Agree / compared', '#Fill A / B', '#Both empty'], fields) : empty('No fields compared.'), 'span2')]));
    }, function (e) {
      clear(box);
      if (e.status === 404 || e.status === 400) append(box, empty(e.message || 'Nothing to compare.', 'ab-empty'));
      else showError(e, 'the A/B comparison');
    });
  }

  // ---------- routing ----------
  function showView(name) {
    ['overview', 'assignments', 'ab'].forEach(function (v) { $('view-' + v).className = 'view' + (v === name || (v === 'assignments' && (name === 'list' || name === 'detail')) ? ' show' : ''); });
    $('list-wrap').style.display = name === 'list' ? '' : 'none';
    $('detail').style.display = name === 'detail' ? '' : 'none';
    var tab = name === 'list' || name === 'detail' ? 'assignments' : name;
    Array.prototype.forEach.call(document.querySelectorAll('nav a'), function (a) { a.className = a.getAttribute('data-tab') === tab ? 'active' : ''; });
    if (name !== 'detail') document.title = 'TutorDex dashboard';
  }
  function route() {
    var h = location.hash.replace(/^#/, '');
    if (!h) {
      var m0 = /^\/assignments\/(\d+)\/?$/.exec(location.pathname);
      h = m0 ? '/assignments/' + m0[1] : '/';
    }
    var qi = h.indexOf('?'), path = qi >= 0 ? h.slice(0, qi) : h, query = parseQuery(qi >= 0 ? h.slice(qi + 1) : '');
    if (timer) { clearInterval(timer); timer = null; }
    var m = /^\/assignments\/(\d+)$/.exec(path);
    if (m) return loadDetail(m[1]);
    if (path === '/assignments') return loadList(query);
    if (path === '/ab') { showView('ab'); if (!state.versions.length) api('/api/queue').then(function (r) { state.versions = (r.data.versions || []).map(function (v) { return v.version; }); fillVersionList(); }, function () {}); return loadAb(query); }
    showView('overview');
    timer = setInterval(function () { if (!document.hidden) { loadOverview(); loadHealth(); } }, 15000);
    return loadOverview();
  }

  // ---------- wiring ----------
  var qTimer = null;
  ['subject', 'level', 'region', 'status'].forEach(function (k) {
    $('f-' + k).addEventListener('change', function () { goList(readFilters()); });
  });
  $('f-q').addEventListener('input', function () {
    if (qTimer) clearTimeout(qTimer);
    qTimer = setTimeout(function () { goList(readFilters(), true); }, 300);
  });
  $('f-q').addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { if (qTimer) clearTimeout(qTimer); goList(readFilters()); } });
  $('f-clear').addEventListener('click', function () { $('f-q').value = ''; goList({}); });
  $('ab-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var a = $('ab-a').value.trim(), b = $('ab-b').value.trim();
    location.hash = '#/ab?' + new URLSearchParams({ a: a, b: b }).toString();
  });
  window.addEventListener('hashchange', route);
  loadHealth();
  route();
})();
`;

const BODY = String.raw`
<header>
  <h1>TutorDex<span>operator dashboard</span></h1>
  <nav>
    <a href="#/" data-tab="overview" data-testid="nav-overview">Overview</a>
    <a href="#/assignments" data-tab="assignments" data-testid="nav-assignments">Assignments</a>
    <a href="#/ab" data-tab="ab" data-testid="nav-ab">A/B</a>
  </nav>
  <span id="health" class="pill unknown" data-testid="health">checking…</span>
</header>
<main>
  <div id="banner" class="banner" role="alert" data-testid="error-banner"></div>

  <div id="view-overview" class="view">
    <div class="grid">
      <section class="card"><h2>Extraction queue <small>by pipeline version × status</small> <small id="updated" style="margin-left:auto"></small></h2><div id="queue"><div class="loading">Loading…</div></div></section>
      <section class="card"><h2>Throughput <small>jobs finished per minute, last hour</small></h2><div id="throughput"></div></section>
      <section class="card span2"><h2>Recent failures <small>20 newest failed jobs</small></h2><div id="failures"></div></section>
      <section class="card span2"><h2>Ingestion runs <small>latest 20</small></h2><div id="runs"></div></section>
      <section class="card span2" data-testid="catchup"><h2>Catch-up <small>latest run, per channel</small></h2><div id="catchup"></div></section>
      <section class="card span2" data-testid="agencies"><h2>Agencies <small>assignments, messages sent, link clicks and DM feedback</small></h2><div id="agencies"></div></section>
    </div>
  </div>

  <div id="view-assignments" class="view">
    <section class="card" id="list-wrap">
      <h2>Assignments <small id="list-count"></small></h2>
      <div class="filters">
        <label>Subject<select id="f-subject" data-testid="filter-subject"><option value="">All subjects</option></select></label>
        <label>Level<select id="f-level" data-testid="filter-level"><option value="">All levels</option></select></label>
        <label>Region<select id="f-region" data-testid="filter-region"><option value="">All regions</option></select></label>
        <label>Status<select id="f-status" data-testid="filter-status"><option value="open">Open</option><option value="closed">Closed</option><option value="expired">Expired</option><option value="all">All</option></select></label>
        <label>Search<input id="f-q" type="search" placeholder="Text, agency, location…" data-testid="filter-q" autocomplete="off"></label>
        <button id="f-clear" type="button">Clear</button>
      </div>
      <div id="list"></div>
    </section>
    <div id="detail"></div>
  </div>

  <div id="view-ab" class="view">
    <section class="card" style="margin-bottom:16px">
      <h2>A/B comparison <small>two pipeline versions over the same raw messages</small></h2>
      <form id="ab-form" class="filters" data-testid="ab-form" style="margin:0">
        <label>Version A<input id="ab-a" type="text" list="versions" data-testid="ab-a" autocomplete="off"></label>
        <label>Version B<input id="ab-b" type="text" list="versions" data-testid="ab-b" autocomplete="off"></label>
        <button class="primary" type="submit">Compare</button>
      </form>
      <datalist id="versions"></datalist>
    </section>
    <div id="ab-result" data-testid="ab-result"></div>
  </div>
</main>
`;

/** The whole dashboard page: one self-contained HTML document (no external resources). */
export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>TutorDex dashboard</title>
<link rel="icon" href="data:,">
<style>${CSS}</style>
</head>
<body>
${BODY}
<script>${SCRIPT}</script>
</body>
</html>
`;
}
