import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { COMPARED_FIELDS, type AbComparison, type AbRow, type FieldValue } from './compare.ts';

/** Reports a person can read: summary.json, side_by_side.csv and one self-contained report.html. */

// ---------- summary.json ----------

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
        .map(([k, x]) => [k, sortDeep(x)]),
    );
  }
  return v;
}

/** Everything but the per-row data, with keys sorted at every level (arrays keep their order). */
export function summaryJson(c: AbComparison): string {
  const { rows: _rows, ...rest } = c;
  return `${JSON.stringify(sortDeep(rest), null, 2)}\n`;
}

// ---------- side_by_side.csv ----------

/** RFC 4180: quote when the field holds a comma, quote, CR or LF; double inner quotes. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(fields: string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

export function displayValue(v: FieldValue): string {
  if (v === null) return '';
  if (Array.isArray(v)) return v.join(' | ');
  return String(v);
}

export function csvHeader(fields: string[] = COMPARED_FIELDS): string[] {
  return ['raw_id', 'channel_link', 'message_id', 'message_date', 'excerpt', 'status_a', 'status_b', ...fields.flatMap((f) => [`${f}_a`, `${f}_b`, `${f}_eq`])];
}

export function sideBySideCsv(rows: AbRow[], fields: string[] = COMPARED_FIELDS): string {
  const out = [csvLine(csvHeader(fields))];
  for (const r of rows) {
    out.push(
      csvLine([
        String(r.raw_id),
        r.channel_link,
        String(r.message_id),
        r.message_date,
        r.excerpt,
        r.status_a,
        r.status_b,
        ...fields.flatMap((f) => [displayValue(r.a[f] ?? null), displayValue(r.b[f] ?? null), r.eq[f] ? '1' : '0']),
      ]),
    );
  }
  return out.join('');
}

// ---------- report.html ----------

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}

const pct = (x: number | null): string => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
const num = (x: number | null, digits = 0): string =>
  x === null ? '–' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const width = (x: number | null): string => `${x === null ? 0 : Math.max(0, Math.min(100, x * 100)).toFixed(1)}%`;

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:24px;color:#1d2330;background:#fafbfc}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde1e6;padding-bottom:4px}
.muted{color:#667085}
table{border-collapse:collapse;background:#fff}
th,td{border:1px solid #dde1e6;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f6;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.bars td{border:none;border-bottom:1px solid #eef0f3}
.bar{position:relative;height:14px;width:120px;background:#eef0f3;border-radius:3px;overflow:hidden}
.bar span{position:absolute;left:0;top:0;bottom:0;display:block}
.agree span{background:#2e7d32}.fa span{background:#1565c0}.fb span{background:#ef6c00}
.empty{padding:24px;border:2px dashed #c5cbd3;background:#fff;border-radius:6px;font-size:16px}
.msg{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:10px 12px;margin:12px 0}
.msg pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:8px;border-radius:4px;max-height:320px;overflow:auto;margin:6px 0}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px;align-items:start}
.diff td:first-child{white-space:nowrap;font-weight:600}
.diff td{word-break:break-word}
.null{color:#98a2b3;font-style:italic}
ul.notes li{margin:2px 0}
`;

function valueHtml(v: FieldValue): string {
  return v === null ? '<span class="null">empty</span>' : esc(displayValue(v));
}

function headline(c: AbComparison): string {
  const { a, b } = c.sides;
  const gold = a.gold !== null || b.gold !== null;
  const row = (label: string, fa: string, fb: string) => `<tr><th>${esc(label)}</th><td class="n">${fa}</td><td class="n">${fb}</td></tr>`;
  const status = [...new Set([...Object.keys(a.by_status), ...Object.keys(b.by_status)])].sort();
  const lines = [
    row('jobs', num(a.jobs), num(b.jobs)),
    ...status.map((s) => row(`status ${s}`, num(a.by_status[s] ?? 0), num(b.by_status[s] ?? 0))),
    row('only this side', num(c.counts.only_a), num(c.counts.only_b)),
    row('compilation posts / items', `${num(a.compilation_jobs)} / ${num(a.items_total)}`, `${num(b.compilation_jobs)} / ${num(b.items_total)}`),
    ...(gold
      ? [
          row('gold cases matched', num(a.gold?.matched ?? 0), num(b.gold?.matched ?? 0)),
          row('gold accuracy (micro)', pct(a.gold?.micro ?? null), pct(b.gold?.micro ?? null)),
          row('gold accuracy (macro)', pct(a.gold?.macro ?? null), pct(b.gold?.macro ?? null)),
          row('gold exact', pct(a.gold?.exact_rate ?? null), pct(b.gold?.exact_rate ?? null)),
        ]
      : []),
    row('extractor latency p50 / p95 (ms)', `${num(a.latency_ms.p50)} / ${num(a.latency_ms.p95)}`, `${num(b.latency_ms.p50)} / ${num(b.latency_ms.p95)}`),
    row(
      'stages total p50 / p95 (ms)',
      `${num(a.stages_total_ms.p50)} / ${num(a.stages_total_ms.p95)}`,
      `${num(b.stages_total_ms.p50)} / ${num(b.stages_total_ms.p95)}`,
    ),
    row('tokens total / mean', `${num(a.tokens.total)} / ${num(a.tokens.mean_total, 1)}`, `${num(b.tokens.total)} / ${num(b.tokens.mean_total, 1)}`),
    row(
      'LLM reuse (cache hits / ok)',
      `${pct(a.reuse.rate)} (${num(a.reuse.cache_hits)}/${num(a.reuse.ok_jobs)})`,
      `${pct(b.reuse.rate)} (${num(b.reuse.cache_hits)}/${num(b.reuse.ok_jobs)})`,
    ),
  ];
  return `<table class="headline"><thead><tr><th></th><th>A: ${esc(c.pipelines.a)}</th><th>B: ${esc(c.pipelines.b)}</th></tr></thead><tbody>${lines.join('')}</tbody></table>
<p>Messages with jobs of both versions: <b>${num(c.counts.intersection)}</b>; both ok: <b>${num(c.counts.both_ok)}</b>; with at least one disagreeing field: <b>${num(c.disagreeing_messages)}</b>.</p>`;
}

function fieldBars(c: AbComparison): string {
  const bar = (cls: string, x: number | null) => `<div class="bar ${cls}" title="${pct(x)}"><span style="width:${width(x)}"></span></div>`;
  const rows = c.fields.map(
    (f) => `<tr><td>${esc(f.field)}</td>
<td>${bar('agree', f.agreement)}</td><td class="n">${pct(f.agreement)}</td><td class="n">${num(f.agree)}/${num(f.compared)}</td>
<td>${bar('fa', f.fill_a)}</td><td class="n">${pct(f.fill_a)}</td>
<td>${bar('fb', f.fill_b)}</td><td class="n">${pct(f.fill_b)}</td>
<td class="n">${num(f.both_empty)}</td><td class="n">${num(f.disagreeing_raw_ids.length)}</td></tr>`,
  );
  return `<table class="bars"><thead><tr><th>field</th><th colspan="3">agreement (at least one side filled)</th><th colspan="2">fill A</th><th colspan="2">fill B</th><th>both empty</th><th>disagree</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function samplesHtml(c: AbComparison): string {
  if (c.disagreeing_messages === 0) return '<p class="empty">No disagreeing messages: both versions agree on every compared field.</p>';
  const items = c.samples.map(
    (
      s,
    ) => `<div class="msg"><div><b>raw ${esc(String(s.raw_id))}</b> · ${esc(s.channel_link)} #${esc(String(s.message_id))} · ${esc(s.message_date)} · A ${esc(s.status_a)} / B ${esc(s.status_b)}</div>
<div class="grid"><pre>${esc(s.raw_text)}</pre>
<table class="diff"><thead><tr><th>field</th><th>A</th><th>B</th></tr></thead><tbody>${s.fields.map((f) => `<tr><td>${esc(f.field)}</td><td>${valueHtml(f.a)}</td><td>${valueHtml(f.b)}</td></tr>`).join('')}</tbody></table></div></div>`,
  );
  const more = c.disagreeing_messages - c.samples.length;
  return `${items.join('\n')}${more > 0 ? `<p class="muted">…and ${num(more)} more disagreeing messages (see side_by_side.csv).</p>` : ''}`;
}

export function reportHtml(c: AbComparison): string {
  const f = c.filters;
  const window = `${f.since ?? 'the beginning'} → ${f.until ?? 'now'}${f.channels ? `; channels: ${f.channels.join(', ')}` : '; all channels'}`;
  const body =
    c.counts.intersection === 0
      ? `<h2>Summary</h2>${headline(c)}<p class="empty">No message has a job of both versions in this window, so there is nothing to compare. Enqueue the same messages for both pipeline versions and run the worker, then compare again.</p>`
      : `<h2>Summary</h2>${headline(c)}<h2>Per field</h2>${fieldBars(c)}<h2>Disagreeing messages (first ${c.samples.length})</h2>${samplesHtml(c)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>A/B: ${esc(c.pipelines.a)} vs ${esc(c.pipelines.b)}</title>
<style>${CSS}</style></head>
<body>
<h1>A/B comparison: ${esc(c.pipelines.a)} vs ${esc(c.pipelines.b)}</h1>
<p class="muted">${esc(window)} · generated ${esc(c.generated_at)}</p>
${body}
<h2>How to read this</h2><ul class="notes">${c.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
</body></html>
`;
}

/** Write summary.json, side_by_side.csv and report.html into outDir (created if needed); returns their paths. */
export async function writeReports(
  comparison: AbComparison,
  outDir: string,
  rows: AbRow[] = comparison.rows,
): Promise<{ summary: string; csv: string; html: string }> {
  await mkdir(outDir, { recursive: true });
  const paths = { summary: join(outDir, 'summary.json'), csv: join(outDir, 'side_by_side.csv'), html: join(outDir, 'report.html') };
  await writeFile(paths.summary, summaryJson(comparison), 'utf8');
  await writeFile(
    paths.csv,
    sideBySideCsv(
      rows,
      comparison.fields.map((x) => x.field),
    ),
    'utf8',
  );
  await writeFile(paths.html, reportHtml(comparison), 'utf8');
  return paths;
}
