import path from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config/index.ts';
import { UserError } from '../errors.ts';
import { askFromTerminal, runLogin } from '../telegram/index.ts';
import type { CliIO } from './runtime.ts';

export function registerLoginCommand(program: Command, shared: { io: CliIO; getConfig: () => Config }): void {
  program
    .command('login')
    .description('log in to Telegram interactively and print a session string for SESSION_STRING')
    .option('--save [file]', 'also write the session to this file (mode 0600; default TG_SESSION)')
    .action(async (opts: { save?: string | boolean }) => {
      const config = shared.getConfig();
      const { apiId, apiHash } = config.telegram;
      if (apiId === null || apiHash === null) {
        throw new UserError(
          `missing Telegram credentials: set ${[apiId === null ? 'TELEGRAM_API_ID' : '', apiHash === null ? 'TELEGRAM_API_HASH' : ''].filter(Boolean).join(' and ')} (from my.telegram.org)`,
        );
      }
      const saveTo =
        opts.save === undefined || opts.save === false ? null : path.resolve(shared.io.cwd, opts.save === true ? config.telegram.sessionFile : opts.save);
      await runLogin({ apiId, apiHash, ask: askFromTerminal(), print: shared.io.out, saveTo });
    });
}
