import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { normalizeChannelRef, type Config } from '../config/index.ts';
import { UserError } from '../errors.ts';
import { createExtractor, evaluateExamples, processPost, type EvalReport } from '../extraction/index.ts';
import { table } from './format.ts';
import type { CliIO } from './runtime.ts';

function mode(value: string): 'llm' | 'rules' {
  if (value !== 'llm' && value !== 'rules') throw new InvalidArgumentError('--mode must be llm or rules');
  return value;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!/^\d*\.?\d+$/.test(value.trim()) || n < 0 || n > 1) throw new InvalidArgumentError('--min-accuracy must be a number from 0 to 1');
  return n;
}

function readInput(file: string | undefined, io: CliIO): string {
  if (file === undefined || file === '-') {
    try {
      return readFileSync(0, 'utf8');
    } catch (err) {
      throw new UserError(`cannot read the post from standard input: ${(err as Error).message}`);
    }
  }
  try {
    return readFileSync(path.resolve(io.cwd, file), 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function formatEval(report: EvalReport): string {
  const lines = [
    `cases ${report.rows.length}, agencies ${Object.keys(report.perAgency).length}`,
    `micro ${pct(report.micro)}   macro ${pct(report.macro)}   all fields exact ${pct(report.exactRate)}`,
    '',
    table(['field', 'accuracy'], Object.entries(report.perField).map(([f, v]) => [f, pct(v)])),
    '',
    table(['agency', 'accuracy'], Object.entries(report.perAgency).map(([a, v]) => [a, pct(v)])),
  ];
  return lines.join('\n');
}

export function registerExtractionCommands(program: Command, shared: { io: CliIO; getConfig: () => Config }): void {
  const { io } = shared;
  program
    .command('extract')
    .description('extract one post (a file, or - for standard input) and print the structured assignment')
    .argument('[file]', 'text file holding the post; - or nothing reads standard input')
    .option('--mode <mode>', 'llm or rules (default: EXTRACTION_MODE)', mode)
    .option('--channel <ref>', 'the channel the post came from (per-agency examples and rules)')
    .option('--json', 'exactly one JSON object: {"canonical", "signals", "meta"}')
    .action(async (file: string | undefined, opts: { mode?: 'llm' | 'rules'; channel?: string; json?: boolean }) => {
      const config = shared.getConfig();
      const channelLink = opts.channel ? normalizeChannelRef(opts.channel) : null;
      const text = readInput(file, io);
      const extractor = createExtractor(config, opts.mode ?? config.extractionMode);
      const result = await processPost({ text, channelLink, isForward: false, isReply: false, deleted: false }, { extractor });
      if (result.outcome === 'skipped') {
        if (opts.json) io.out(JSON.stringify({ canonical: null, signals: null, meta: result.meta }));
        else io.out(`skipped: ${result.reason}`);
        return;
      }
      const [first, ...rest] = result.items;
      const meta = { ...first!.meta, ...(rest.length ? { compilation: { items: result.items.map((i) => i.canonical) } } : {}) };
      if (opts.json) {
        io.out(JSON.stringify({ canonical: first!.canonical, signals: first!.signals, meta }));
        return;
      }
      for (const [i, item] of result.items.entries()) {
        if (result.items.length > 1) io.out(`--- item ${i + 1} of ${result.items.length}`);
        io.out(JSON.stringify(item.canonical, null, 2));
      }
    });

  program
    .command('eval')
    .description('score the extractor against a folder of examples ("Raw:"/"JSON:" files)')
    .argument('<examples-dir>', 'folder of <agency>.txt example files')
    .option('--mode <mode>', 'llm or rules (default: EXTRACTION_MODE)', mode)
    .option('--json', 'machine-readable report')
    .option('--min-accuracy <x>', 'exit 1 when micro accuracy is below this (0..1)', fraction)
    .action(async (dir: string, opts: { mode?: 'llm' | 'rules'; json?: boolean; minAccuracy?: number }) => {
      const config = shared.getConfig();
      const extractor = createExtractor(config, opts.mode ?? config.extractionMode);
      const report = await evaluateExamples(path.resolve(io.cwd, dir), async (raw, channelLink) => {
        const result = await processPost({ text: raw, channelLink, isForward: false, isReply: false, deleted: false }, { extractor });
        return result.outcome === 'ok' ? result.items[0]!.canonical : null;
      });
      if (report.rows.length === 0) throw new UserError(`no examples found in ${dir} (expected <agency>.txt files with Raw:/JSON: blocks)`);
      io.out(opts.json ? JSON.stringify(report, null, 2) : formatEval(report));
      if (opts.minAccuracy !== undefined && report.micro < opts.minAccuracy) {
        throw new UserError(`micro accuracy ${pct(report.micro)} is below --min-accuracy ${pct(opts.minAccuracy)}`);
      }
    });
}
