#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so `npm ci` needs no build step.
import { register } from 'tsx/esm/api';

register();
const { runCli, processIO } = await import('../src/cli/main.ts');

// First SIGINT/SIGTERM: stop gracefully (runs end as `cancelled` with their counts). Second: exit at once.
const controller = new AbortController();
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    signals += 1;
    if (signals > 1) process.exit(130);
    process.stderr.write(`\ntutordex: ${sig} received, finishing the current batch (again to force)\n`);
    controller.abort();
  });
}
process.exitCode = await runCli(process.argv.slice(2), processIO(controller.signal));
