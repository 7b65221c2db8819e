import path from 'node:path';
import type { Command } from 'commander';
import { assertNotLive, compareVersions, listVersions, loadVariant, pruneVersion, runAb, writeReports } from '../ab/index.ts';
import { parseChannelList, parseWindow, type Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { UserError } from '../errors.ts';
import { loadExamples } from '../extraction/index.ts';
import { intOption } from './collector-commands.ts';
import { withDatabase } from './commands.ts';
import { ago, table } from './format.ts';
import { createLogger, type CliIO } from './runtime.ts';

interface Shared {
  io: CliIO;
  getConfig: () => Config;
}

interface WindowFlags {
  since?: string;
  until?: string;
  channels?: string;
  out?: string;
}

function outDir(io: CliIO, flag: string | undefined, a: string, b: string): string {
  return path.resolve(io.cwd, flag ?? path.join('ab-reports', `${a}_vs_${b}`.replace(/[^A-Za-z0-9._-]/g, '_')));
}

async function compareAndWrite(
  io: CliIO,
  db: Database,
  opts: { a: string; b: string; window: ReturnType<typeof parseWindow>; channels: string[] | null; gold: string | undefined; out: string },
) {
  let gold = null;
  if (opts.gold !== undefined) {
    try {
      gold = loadExamples(path.resolve(io.cwd, opts.gold));
    } catch (err) {
      throw new UserError(`--gold: cannot read ${opts.gold}: ${(err as Error).message.split('\n')[0]}`);
    }
    if (gold.length === 0) throw new UserError(`--gold: no Raw:/JSON: examples in ${opts.gold}`);
  }
  const comparison = await compareVersions(db, { a: opts.a, b: opts.b, since: opts.window.since, until: opts.window.until, channels: opts.channels, gold });
  const files = await writeReports(comparison, opts.out);
  const c = comparison.counts;
  io.out(`compared ${opts.a} and ${opts.b}: ${c.intersection} messages in both, ${c.both_ok} ok on both`);
  io.out(`reports: ${files.summary}\n         ${files.csv}\n         ${files.html}`);
  return comparison;
}

export function registerAbCommands(program: Command, shared: Shared): void {
  const { io } = shared;
  const ab = program.command('ab').description('A/B experiments: two pipeline versions over the same raw messages');

  ab.command('run')
    .description('enqueue the raw window for both versions and extract it (no assignments, no sends), then compare')
    .requiredOption('--a <version>', 'pipeline version of variant A')
    .requiredOption('--b <version>', 'pipeline version of variant B')
    .option('--a-env <file>', 'env file with A’s settings (EXTRACTION_MODE, LLM_MODEL_NAME, LLM_SYSTEM_PROMPT_FILE, …)')
    .option('--b-env <file>', 'env file with B’s settings')
    .option('--since <iso>', 'oldest message date, inclusive')
    .option('--until <iso>', 'newest message date, exclusive')
    .option('--channels <list>', 'channels (default: every channel with messages in the window)')
    .option('--max-messages <n>', 'at most N messages per channel', intOption('--max-messages', 1))
    .option('--gold <dir>', 'examples folder (Raw:/JSON: files) to score both sides against')
    .option('--out <dir>', 'report folder (default ab-reports/<a>_vs_<b>)')
    .option('--force', 'recompute versions that already have results')
    .action(async (opts: WindowFlags & { a: string; b: string; aEnv?: string; bEnv?: string; maxMessages?: number; gold?: string; force?: boolean }) => {
      const config = shared.getConfig();
      const window = parseWindow(opts);
      const channels = opts.channels ? parseChannelList(opts.channels) : null;
      const base = { env: io.env, cwd: io.cwd };
      const variants = [loadVariant('A', opts.a, opts.aEnv, base), loadVariant('B', opts.b, opts.bEnv, base)];
      const log = createLogger(config, io, config.env.origin.LOG_LEVEL ? config.logLevel : 'warn');
      await withDatabase(config, async (db) => {
        await assertNotLive(db, config, variants);
        const sides = await runAb({
          db,
          log,
          signal: io.signal ?? new AbortController().signal,
          variants,
          channels,
          window,
          maxMessages: opts.maxMessages ?? null,
          force: Boolean(opts.force),
          report: (line) => io.err(line),
        });
        for (const s of sides)
          io.out(`${s.version}: ${s.reused ? 'already extracted' : `extracted ${s.processed}`} (ok ${s.ok}, skipped ${s.skipped}, failed ${s.failed})`);
        await compareAndWrite(io, db, {
          a: variants[0]!.version,
          b: variants[1]!.version,
          window,
          channels,
          gold: opts.gold,
          out: outDir(io, opts.out, opts.a, opts.b),
        });
      });
    });

  ab.command('compare')
    .description('compare two versions already extracted: summary.json, side_by_side.csv, report.html')
    .requiredOption('--a <version>', 'pipeline version A')
    .requiredOption('--b <version>', 'pipeline version B')
    .option('--since <iso>', 'oldest message date, inclusive')
    .option('--until <iso>', 'newest message date, exclusive')
    .option('--channels <list>', 'only these channels')
    .option('--gold <dir>', 'examples folder (Raw:/JSON: files) to score both sides against')
    .option('--out <dir>', 'report folder (default ab-reports/<a>_vs_<b>)')
    .action(async (opts: WindowFlags & { a: string; b: string; gold?: string }) => {
      const config = shared.getConfig();
      const window = parseWindow(opts);
      const channels = opts.channels ? parseChannelList(opts.channels) : null;
      await withDatabase(config, async (db) => {
        const versions = new Set((await listVersions(db, config)).map((v) => v.version));
        for (const [flag, v] of [
          ['--a', opts.a],
          ['--b', opts.b],
        ] as const) {
          if (!versions.has(v)) throw new UserError(`${flag}: no pipeline version ${v} in the queue (tutordex versions list shows them)`);
        }
        await compareAndWrite(io, db, { a: opts.a, b: opts.b, window, channels, gold: opts.gold, out: outDir(io, opts.out, opts.a, opts.b) });
      });
    });

  const versions = program.command('versions').description('pipeline versions in the queue');
  versions
    .command('list')
    .description('every version with job counts by status, processing window, model and prompt fingerprints; the live one marked')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const config = shared.getConfig();
      await withDatabase(config, async (db) => {
        const list = await listVersions(db, config);
        if (opts.json) return io.out(JSON.stringify(list, null, 2));
        if (list.length === 0) return io.out('no pipeline versions yet (the queue is empty)');
        io.out(
          table(
            ['version', 'live', 'jobs', 'ok', 'skipped', 'failed', 'pending', 'last processed', 'model', 'prompt'],
            list.map((v) => [
              v.version,
              v.live ? 'live' : '',
              v.jobs,
              v.byStatus.ok ?? 0,
              v.byStatus.skipped ?? 0,
              v.byStatus.failed ?? 0,
              (v.byStatus.pending ?? 0) + (v.byStatus.processing ?? 0),
              ago(v.lastProcessedAt),
              v.models.join(', ') || '-',
              v.promptFingerprints.map((p) => p.slice(0, 8)).join(', ') || '-',
            ]),
          ),
        );
      });
    });
  versions
    .command('prune')
    .description("delete one version's queue rows (never raw messages); refuses the live version")
    .argument('<version>', 'the pipeline version to delete')
    .option('--yes', 'really delete (without it: only say how many rows would go)')
    .action(async (version: string, opts: { yes?: boolean }) => {
      const config = shared.getConfig();
      await withDatabase(config, async (db) => {
        const n = await pruneVersion(db, config, version, Boolean(opts.yes));
        if (!opts.yes) throw new UserError(`would delete ${n} job row(s) of ${version}; run again with --yes to delete them`);
        io.out(`deleted ${n} job row(s) of ${version} (raw messages and assignments untouched)`);
      });
    });
}
