import { Command, CommanderError } from 'commander';
import { envTableMarkdown, loadConfig, scrubSecrets, type Config } from '../config/index.ts';
import { UserError } from '../errors.ts';
import { dbMigrate, queueStats, showConfig } from './commands.ts';
import { registerCollectorCommands } from './collector-commands.ts';
import { registerLoginCommand } from './login-command.ts';
import { registerExtractionCommands } from './extraction-commands.ts';
import { registerTutorCommands } from './tutor-commands.ts';
import { registerStartCommand } from './start-command.ts';
import { registerAbCommands } from './ab-commands.ts';
import { registerWebCommands } from './web-commands.ts';
import { registerWorkerCommands } from './worker-commands.ts';
import { registerBotCommand } from './bot-command.ts';
import { registerDeliveryCommands } from './delivery-commands.ts';
import { registerSourceCommands } from './source-commands.ts';
import { scrubDebugOutput, type CliIO } from './runtime.ts';

export type { CliIO } from './runtime.ts';

export const processIO = (signal?: AbortSignal): CliIO => ({
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
  errStream: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal,
});

/** Run the CLI; resolves to the process exit code. */
export async function runCli(argv: string[], io: CliIO = processIO()): Promise<number> {
  let config: Config | null = null;
  const getConfig = (): Config => {
    if (!config) {
      config = loadConfig({ env: io.env, cwd: io.cwd });
      scrubDebugOutput(config.secrets, io.errStream);
    }
    return config;
  };

  // A usage error is one line: commander's message with the hint on the same line.
  const output = {
    writeOut: (s: string) => io.out(s.trimEnd()),
    writeErr: (s: string) => io.err(s.trimEnd()),
    outputError: (s: string, write: (s: string) => void) => write(`${s.trimEnd()} (run tutordex --help for usage)`),
  };
  const program = new Command('tutordex')
    .description('Telegram tuition assignments → structured assignments → tutors')
    .option('--debug', 'show stack traces for errors')
    .exitOverride()
    .configureOutput(output);

  const db = program.command('db').description('database administration');
  db.command('migrate')
    .description('apply pending schema migrations (every command also does this on start)')
    .action(async () => dbMigrate(getConfig(), io.out));

  const queue = program.command('queue').description('the extraction queue');
  queue
    .command('stats')
    .description('jobs by pipeline version and status')
    .option('--version <version>', 'only this pipeline version')
    .option('--json', 'machine-readable output')
    .action(async (opts: { version?: string; json?: boolean }) => queueStats(getConfig(), io.out, opts));

  program
    .command('config')
    .description('effective configuration (secrets redacted) and where each value came from')
    .option('--json', 'machine-readable output')
    .option('--markdown', 'the table of every variable, as in the README')
    .action((opts: { json?: boolean; markdown?: boolean }) => (opts.markdown ? io.out(envTableMarkdown()) : showConfig(getConfig(), io.out, opts)));

  registerCollectorCommands(program, { io, getConfig });
  registerLoginCommand(program, { io, getConfig });
  registerExtractionCommands(program, { io, getConfig });
  registerTutorCommands(program, { io, getConfig });
  registerWorkerCommands(program, { io, getConfig });
  registerStartCommand(program, { io, getConfig });
  registerAbCommands(program, { io, getConfig });
  registerWebCommands(program, { io, getConfig });
  registerBotCommand(program, { io, getConfig });
  registerDeliveryCommands(program, { io, getConfig });
  registerSourceCommands(program, { io, getConfig });

  for (const cmd of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) {
    cmd.exitOverride();
    cmd.configureOutput(output);
  }

  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      // commander has already printed the problem and the usage hint
      return 2;
    }
    const secrets = config ? (config as Config).secrets : [];
    if (err instanceof UserError) {
      io.err(`tutordex: ${scrubSecrets(err.message, secrets)}`);
      if (debug && err.stack) io.err(scrubSecrets(err.stack, secrets));
      return err.exitCode;
    }
    const e = err as Error;
    io.err(`tutordex: unexpected error: ${scrubSecrets(e.message ?? String(err), secrets).split('\n')[0]}${debug ? '' : ' (run with --debug for details)'}`);
    if (debug && e.stack) io.err(scrubSecrets(e.stack, secrets));
    return 1;
  }
}
