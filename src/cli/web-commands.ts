import type { Command } from 'commander';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { collectProcessMetrics } from '../metrics/index.ts';
import { sleep } from '../sleep.ts';
import { startWebServer, type RunningServer } from '../web/server.ts';
import { intOption } from './collector-commands.ts';
import { withDatabase } from './commands.ts';
import type { CliIO } from './runtime.ts';

interface Shared {
  io: CliIO;
  getConfig: () => Config;
}

export const DEFAULT_WEB_PORT = 8080;

/** Start the dashboard on an open database (used by `serve` and `start`). */
export function startDashboard(db: Database, config: Config, host: string, port: number): Promise<RunningServer> {
  return startWebServer({ db, config, token: config.web.dashboardToken, host, port });
}

export function registerWebCommands(program: Command, shared: Shared): void {
  const { io } = shared;
  program
    .command('serve')
    .description('the read-only dashboard, JSON API, /health and /metrics')
    .option('--port <n>', 'port (0 = any free port)', intOption('--port', 0, 65535), DEFAULT_WEB_PORT)
    .option('--host <address>', 'address to bind (anything but 127.0.0.1 needs DASHBOARD_TOKEN)', '127.0.0.1')
    .action(async (opts: { port: number; host: string }) => {
      const config = shared.getConfig();
      collectProcessMetrics();
      await withDatabase(config, async (db) => {
        const server = await startDashboard(db, config, opts.host, opts.port);
        io.out(`dashboard: ${server.url}/   health: ${server.url}/health   metrics: ${server.url}/metrics   (Ctrl-C stops)`);
        const signal = io.signal ?? new AbortController().signal;
        while (!signal.aborted) await sleep(60_000, signal);
        await server.close();
      });
    });
}
