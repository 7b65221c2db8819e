import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { normalizeChannelRef, type Config } from '../config/index.ts';
import { UserError } from '../errors.ts';
import { createExtractor, evaluateExamples, loadMatchingGold, processPost, type EvalReport, type MatchingReport } from '../extraction/index.ts';
import { table } from './format.ts';
import type { CliIO } from './runtime.ts';

function mode(value: string): 'llm' | 'rules' {
  if (value !== 'llm' && value !== 'rules') throw new InvalidArgumentError('--mode must be llm or rules');
  return value;
}

const fraction =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!/^\d*\.?\d+$/.test(value.trim()) || n < 0 || n > 1) throw new InvalidArgumentError(`${flag} must be a number from 0 to 1`);
    return n;
  };

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
    `display fields (the examples' JSON blocks): cases ${report.rows.length}, agencies ${Object.keys(report.perAgency).length}`,
    `micro ${pct(report.micro)}   macro ${pct(report.macro)}   all fields exact ${pct(report.exactRate)}`,
    '',
    table(
      ['field', 'accuracy'],
      Object.entries(report.perField).map(([f, v]) => [f, pct(v)]),
    ),
    '',
    table(
      ['agency', 'accuracy'],
      Object.entries(report.perAgency).map(([a, v]) => [a, pct(v)]),
    ),
  ];
  if (report.matching) lines.push('', formatMatching(report.matching));
  return lines.join('\n');
}

function formatMatching(m: MatchingReport): string {
  return [
    `matching fields (what decides who is notified): cases ${m.cases}, agencies ${Object.keys(m.perAgency).length}${m.unlabelled.length ? `, ${m.unlabelled.length} example(s) without a label` : ''}`,
    `micro ${pct(m.micro)}   macro ${pct(m.macro)}`,
    '',
    table(
      ['field', 'accuracy'],
      Object.entries(m.perField).map(([f, v]) => [f, pct(v)]),
    ),
    '',
    table(
      ['agency', 'accuracy'],
      Object.entries(m.perAgency).map(([a, v]) => [a, pct(v)]),
    ),
  ].join('\n');
}

/** The matching gold beside an examples folder (`<dir>/../matching_gold/dev.jsonl`), when there is one. */
function defaultMatchingGold(dir: string): string | null {
  const file = path.join(path.dirname(dir), 'matching_gold', 'dev.jsonl');
  return existsSync(file) ? file : null;
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
    .option('--gold <file>', 'matching-field labels (JSON Lines; default: ../matching_gold/dev.jsonl beside the examples folder, when present)')
    .option('--no-gold', 'score the display fields only')
    .option('--json', 'machine-readable report')
    .option('--min-accuracy <x>', 'exit 1 when display-field micro accuracy is below this (0..1)', fraction('--min-accuracy'))
    .option('--min-matching-accuracy <x>', 'exit 1 when matching-field micro accuracy is below this (0..1)', fraction('--min-matching-accuracy'))
    .action(
      async (dir: string, opts: { mode?: 'llm' | 'rules'; gold?: string | false; json?: boolean; minAccuracy?: number; minMatchingAccuracy?: number }) => {
        const config = shared.getConfig();
        const examplesDir = path.resolve(io.cwd, dir);
        const goldFile = opts.gold === false ? null : opts.gold ? path.resolve(io.cwd, opts.gold) : defaultMatchingGold(examplesDir);
        if (opts.minMatchingAccuracy !== undefined && !goldFile) throw new UserError('--min-matching-accuracy needs matching labels: pass --gold FILE');
        const matchingGold = goldFile ? loadMatchingGold(goldFile) : undefined;
        const extractor = createExtractor(config, opts.mode ?? config.extractionMode);
        const report = await evaluateExamples(
          examplesDir,
          async (raw, channelLink) => {
            const result = await processPost({ text: raw, channelLink, isForward: false, isReply: false, deleted: false }, { extractor });
            return result.outcome === 'ok' ? result.items : null;
          },
          matchingGold ? { matchingGold } : {},
        );
        if (report.rows.length === 0) throw new UserError(`no examples found in ${dir} (expected <agency>.txt files with Raw:/JSON: blocks)`);
        io.out(opts.json ? JSON.stringify(report, null, 2) : formatEval(report));
        if (opts.minAccuracy !== undefined && report.micro < opts.minAccuracy) {
          throw new UserError(`micro accuracy ${pct(report.micro)} is below --min-accuracy ${pct(opts.minAccuracy)}`);
        }
        if (opts.minMatchingAccuracy !== undefined && report.matching && report.matching.micro < opts.minMatchingAccuracy) {
          throw new UserError(`matching micro accuracy ${pct(report.matching.micro)} is below --min-matching-accuracy ${pct(opts.minMatchingAccuracy)}`);
        }
      },
    );
}
