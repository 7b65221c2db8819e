import type { Command } from 'commander';
import type { Config } from '../config/index.ts';
import { DELIVERY_STATUSES, listDeliveries, resolveUncertain, type DeliveryStatus, type UncertainResolution } from '../delivery/index.ts';
import { UserError } from '../errors.ts';
import { withDatabase } from './commands.ts';
import { ago, table } from './format.ts';
import type { CliIO } from './runtime.ts';

const positiveInt = (what: string, text: string): number => {
  const n = Number(text.trim());
  if (!/^\d{1,15}$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) throw new UserError(`${what} must be a positive integer, got "${text}"`);
  return n;
};

export function registerDeliveryCommands(program: Command, shared: { io: CliIO; getConfig: () => Config }): void {
  const { io } = shared;
  const deliveries = program.command('deliveries').description('the broadcast/DM outbox: look at uncertain messages and settle them');

  deliveries
    .command('list')
    .description('outbox rows of one status, newest first (default: uncertain, the ones that need a look)')
    .option('--status <status>', `one of ${DELIVERY_STATUSES.join(', ')}`, 'uncertain')
    .option('--limit <n>', 'most rows shown', '50')
    .option('--json', 'machine-readable output (a JSON array)')
    .action(async (opts: { status: string; limit: string; json?: boolean }) => {
      if (!(DELIVERY_STATUSES as readonly string[]).includes(opts.status))
        throw new UserError(`--status must be one of ${DELIVERY_STATUSES.join(', ')}, got "${opts.status}"`);
      const limit = positiveInt('--limit', opts.limit);
      const rows = await withDatabase(shared.getConfig(), (db) => listDeliveries(db, { status: opts.status as DeliveryStatus, limit }));
      if (opts.json) {
        io.out(JSON.stringify(rows, null, 2));
        return;
      }
      if (rows.length === 0) {
        io.out(`no ${opts.status} deliveries`);
        return;
      }
      io.out(
        table(
          ['id', 'kind', 'recipient', 'assignment', 'reason', 'waiting', 'updated'],
          rows.map((r) => [r.id, r.kind, r.recipient, `${r.assignmentId} (${r.assignmentStatus})`, r.reason ?? '', r.syncAction ?? '', ago(r.updatedAt)]),
        ),
      );
      io.out(`${rows.length} ${opts.status} deliver${rows.length === 1 ? 'y' : 'ies'}`);
      if (opts.status === 'uncertain') {
        io.out('each may or may not be in its chat: look, then  tutordex deliveries resolve <id> --found <message-id> | --resend | --lost');
      }
    });

  deliveries
    .command('resolve')
    .description('settle an uncertain delivery after looking at the chat')
    .argument('<id>', 'the delivery id (from deliveries list)')
    .option('--found <message-id>', 'the message is in the chat: its id (the last number of its t.me link); pending edits/deletes then apply')
    .option('--resend', 'the message is not in the chat: send it once more')
    .option('--lost', 'the message is not in the chat and should not be sent: mark it failed')
    .action(async (idText: string, opts: { found?: string; resend?: boolean; lost?: boolean }) => {
      const id = positiveInt('the delivery id', idText);
      const chosen = [opts.found !== undefined, opts.resend === true, opts.lost === true].filter(Boolean).length;
      if (chosen !== 1) throw new UserError('say what you found in the chat: exactly one of --found <message-id>, --resend, --lost');
      const how: UncertainResolution =
        opts.found !== undefined ? { found: positiveInt('--found', opts.found) } : opts.resend ? { resend: true } : { lost: true };
      io.out(await withDatabase(shared.getConfig(), (db) => resolveUncertain(db, id, how)));
    });
}
