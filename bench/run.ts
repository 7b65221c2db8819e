import { readFileSync, writeFileSync } from 'node:fs';
import { extractBenchmark } from './extract.ts';
import { ingestBenchmark } from './ingest.ts';
import { pipelineBenchmark } from './pipeline.ts';
import { queueBenchmark } from './queue.ts';
import { machine, printTable, type SummaryRow } from './support.ts';

const suites: Record<string, () => Promise<SummaryRow[]>> = {
  queue: queueBenchmark,
  ingest: ingestBenchmark,
  extract: extractBenchmark,
  pipeline: pipelineBenchmark,
};

const args = process.argv.slice(2);
const write = args.includes('--write');
const wanted = args.filter((a) => a !== '--write');
const unknown = wanted.filter((w) => !(w in suites));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')} (available: ${Object.keys(suites).join(', ')}; --write records the summary in BENCHMARKS.md)`);
  process.exit(2);
}
const names = wanted.length > 0 ? wanted : Object.keys(suites);
const summary: SummaryRow[] = [];
const started = Date.now();
for (const name of names) {
  console.log('');
  summary.push(...(await suites[name]!()));
}
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
const headers = ['suite', 'measurement', 'value', 'baseline (same run) / target', 'ratio'];
const rows = summary.map((r) => [r.suite, r.measurement, r.value, r.baseline, r.ratio]);
console.log(`\nsummary: ${names.join(', ')} in one run (${minutes} min); ${machine()}`);
printTable(headers, rows);

if (write) {
  // The block between the markers in BENCHMARKS.md is replaced by this run's summary, with date and machine.
  const file = 'BENCHMARKS.md';
  const start = '<!-- bench:summary:start -->';
  const end = '<!-- bench:summary:end -->';
  const doc = readFileSync(file, 'utf8');
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) {
    console.error(`--write: ${file} has no ${start} … ${end} block`);
    process.exit(1);
  }
  const md = [
    `Latest \`npm run bench${wanted.length > 0 ? ` -- ${wanted.join(' ')}` : ''}\`: ${new Date().toISOString().slice(0, 10)}, ${minutes} min, ${machine()}.`,
    '',
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`),
  ].join('\n');
  writeFileSync(file, `${doc.slice(0, from + start.length)}\n${md}\n${doc.slice(to)}`);
  console.log(`summary written to ${file}`);
}
process.exit(0);
