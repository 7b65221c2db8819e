import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../config/index.ts';
import { UserError } from '../errors.ts';
import { pollTutorCity, runTutorCityPoller, TutorCityError, type PollResult } from '../sources/index.ts';
import { withDatabase } from './commands.ts';
import type { CliIO } from './runtime.ts';

const seconds = (value: string): number => {
  const n = Number(value.trim());
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || n < 10 || n > 86_400)
    throw new InvalidArgumentError('--interval must be a number of seconds between 10 and 86400');
  return n;
};

/** One line per poll: what the feed held and what changed in the database. */
export function pollLine(r: PollResult): string {
  const gone = r.completeFeed ? `${r.gone} gone` : 'gone not checked (the feed was full: raise TUTORCITY_LIMIT)';
  return `tutorcity: ${r.rows} rows → ${r.assignments} assignments; ${r.inserted} new, ${r.changed} changed, ${gone}; ${r.enqueued} jobs queued`;
}

const oneLine = (err: unknown) => (err instanceof TutorCityError ? new UserError(err.message) : err);

export function registerSourceCommands(program: Command, shared: { io: CliIO; getConfig: () => Config }): void {
  const { io } = shared;
  const poll = program.command('poll').description('poll a structured (non-Telegram) source into the raw log');
  poll
    .command('tutorcity')
    .description("TutorCity's public assignments API: new and changed records are queued for the worker; records gone from the feed close")
    .option('--once', 'one poll, then exit')
    .option('--interval <s>', 'seconds between polls (default TUTORCITY_POLL_SECONDS)', seconds)
    .action(async (opts: { once?: boolean; interval?: number }) => {
      const config = shared.getConfig();
      await withDatabase(config, async (db) => {
        if (opts.once) {
          io.out(pollLine(await pollTutorCity(db, config, { signal: io.signal }).catch((err) => Promise.reject(oneLine(err)))));
          return;
        }
        const signal = io.signal ?? new AbortController().signal;
        await runTutorCityPoller(db, config, {
          signal,
          intervalSeconds: opts.interval,
          onPoll: (r) => io.out(pollLine(r)),
          onError: (err) => io.err(`tutorcity: poll failed: ${err.message}`),
        });
      });
    });
}
