/** Rules extractor + hardening over the fixture corpus ×100: posts/s and per-post latency percentiles. */
import { BACKTRACK_SHAPES } from '../test/fixtures/adversarial-inputs.ts';
import path from 'node:path';
import { createExtractor, loadExamples, processPost } from '../src/extraction/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { fmt, machine, printTable, ratioOf, type SummaryRow } from './support.ts';

export async function extractBenchmark(): Promise<SummaryRow[]> {
  const rounds = Number(process.env.BENCH_EXTRACT_ROUNDS ?? 100);
  const examples = loadExamples(path.resolve('test/fixtures/message_examples'));
  const extractor = createExtractor(loadConfig({ env: {}, envFile: null }), 'rules');
  console.log(`extract benchmark: rules extractor + hardening, ${examples.length} fixture posts × ${rounds}; ${machine()}`);
  const times: number[] = [];
  const started = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const ex of examples) {
      const t0 = performance.now();
      await processPost({ text: ex.raw, channelLink: ex.channelLink, isForward: false, isReply: false, deleted: false }, { extractor });
      times.push(performance.now() - t0);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
  printTable(
    ['measurement', 'value'],
    [
      ['posts', fmt(times.length)],
      ['posts/s', fmt(times.length / seconds)],
      ['p50 per post', `${q(0.5).toFixed(2)} ms`],
      ['p99 per post', `${q(0.99).toFixed(2)} ms`],
      ['max per post', `${times[times.length - 1]!.toFixed(2)} ms`],
      ['heap used', `${fmt(process.memoryUsage().heapUsed / 2 ** 20)} MiB`],
    ],
  );
  const rate = times.length / seconds;
  // adversarial inputs (the shapes that would make a regex backtrack): the slowest one against a fixture post
  const nasty = BACKTRACK_SHAPES;
  let worst = 0;
  for (const text of nasty) {
    const t0 = performance.now();
    await processPost({ text, channelLink: null, isForward: false, isReply: false, deleted: false }, { extractor });
    worst = Math.max(worst, performance.now() - t0);
  }
  console.log(`adversarial inputs: ${nasty.length}, slowest ${worst.toFixed(1)} ms`);
  return [
    {
      suite: 'extract',
      measurement: `rules extractor + hardening (${fmt(times.length)} posts)`,
      value: `${fmt(rate)} posts/s`,
      baseline: 'no peer (the pipeline rows divide by it)',
      ratio: '',
    },
    {
      suite: 'extract',
      measurement: 'p99 per post',
      value: `${q(0.99).toFixed(2)} ms`,
      baseline: `p50 ${q(0.5).toFixed(2)} ms`,
      ratio: ratioOf(q(0.99), q(0.5)),
    },
    {
      suite: 'extract',
      measurement: `slowest of ${nasty.length} adversarial inputs (up to 200 kB)`,
      value: `${worst.toFixed(1)} ms`,
      baseline: `p99 per post ${q(0.99).toFixed(2)} ms`,
      ratio: ratioOf(worst, q(0.99)),
    },
  ];
}
