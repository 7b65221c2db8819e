import { extractBenchmark } from './extract.ts';
import { ingestBenchmark } from './ingest.ts';
import { pipelineBenchmark } from './pipeline.ts';
import { queueBenchmark } from './queue.ts';

const suites: Record<string, () => Promise<void>> = { queue: queueBenchmark, ingest: ingestBenchmark, extract: extractBenchmark, pipeline: pipelineBenchmark };

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in suites));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')} (available: ${Object.keys(suites).join(', ')})`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(suites)) {
  await suites[name]!();
}
process.exit(0);
