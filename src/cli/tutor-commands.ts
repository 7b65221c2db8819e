import path from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config/index.ts';
import { UserError } from '../errors.ts';
import { importTutors, listTutors, removeTutor, upsertTutor, type Tutor } from '../tutors/index.ts';
import { withDatabase } from './commands.ts';
import { table } from './format.ts';
import type { CliIO } from './runtime.ts';

const list = (xs: string[]): string => (xs.length > 0 ? xs.join(', ') : '-');

/** A tutor profile as printed by `tutors add` (one "field: value" line each). */
export function formatTutor(t: Tutor): string {
  const rows: Array<[string, string]> = [
    ['chat id', t.chatId],
    ['name', t.displayName ?? '-'],
    ['subjects', list(t.subjects)],
    ['levels', list(t.levels)],
    ['postal code', t.postalCode ? `${t.postalCode} (${t.lat!.toFixed(4)}, ${t.lon!.toFixed(4)})` : '-'],
    ['max distance', t.maxDistanceKm === null ? '-' : `${t.maxDistanceKm} km`],
    ['min rate', t.minRate === null ? '-' : `$${t.minRate}/h`],
    ['learning modes', t.learningModes.length > 0 ? t.learningModes.join(', ') : 'any'],
    ['tutor types', t.tutorTypes.length > 0 ? t.tutorTypes.join(', ') : 'any'],
    ['active', t.active ? 'yes' : `no${t.inactiveReason ? ` (${t.inactiveReason})` : ''}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join('\n');
}

function tutorJson(t: Tutor): Record<string, unknown> {
  return { ...t, lastDmAt: t.lastDmAt?.toISOString() ?? null, createdAt: t.createdAt.toISOString(), updatedAt: t.updatedAt.toISOString() };
}

interface AddOptions {
  chatId: string;
  subjects: string;
  levels: string;
  postal?: string;
  maxDistance?: string;
  minRate?: string;
  modes?: string;
  types?: string;
  name?: string;
  inactive?: boolean;
}

export function registerTutorCommands(program: Command, shared: { io: CliIO; getConfig: () => Config }): void {
  const { io } = shared;
  const tutors = program.command('tutors').description('tutor profiles that receive matching assignments by DM');

  tutors
    .command('add')
    .description('create or update (by chat id) a tutor profile and print it')
    .requiredOption('--chat-id <id>', 'Telegram chat id the bot DMs')
    .requiredOption('--subjects <list>', 'subjects: names ("E Maths"), categories ("Math") or codes, separated by , ; or |')
    .requiredOption('--levels <list>', 'levels ("Secondary") or specific levels ("Sec 3", "P5", "JC1"), separated by , ; or |')
    .option('--postal <code>', 'six-digit postal code for distance matching ("" clears it)')
    .option('--max-distance <km>', 'travel radius in km (0.5 to 50, default 5)')
    .option('--min-rate <n>', 'lowest hourly rate to be told about')
    .option('--modes <list>', 'learning modes: online, face-to-face, hybrid (default: any)')
    .option('--types <list>', 'tutor types, e.g. "full-time;ex-moe" (default: any)')
    .option('--name <text>', 'display name')
    .option('--inactive', 'save the profile but send it nothing')
    .action(async (opts: AddOptions) => {
      const input: Record<string, unknown> = { chatId: opts.chatId, subjects: opts.subjects, levels: opts.levels };
      if (opts.postal !== undefined) input.postalCode = opts.postal;
      if (opts.maxDistance !== undefined) input.maxDistanceKm = opts.maxDistance;
      if (opts.minRate !== undefined) input.minRate = opts.minRate;
      if (opts.modes !== undefined) input.learningModes = opts.modes;
      if (opts.types !== undefined) input.tutorTypes = opts.types;
      if (opts.name !== undefined) input.displayName = opts.name;
      input.active = !opts.inactive;
      const tutor = await withDatabase(shared.getConfig(), (db) => upsertTutor(db, input));
      io.out(`saved tutor ${tutor.chatId} (id ${tutor.id})`);
      io.out(formatTutor(tutor));
    });

  tutors
    .command('list')
    .description('every tutor profile')
    .option('--json', 'machine-readable output (a JSON array)')
    .option('--active', 'only active tutors')
    .action(async (opts: { json?: boolean; active?: boolean }) => {
      const rows = await withDatabase(shared.getConfig(), (db) => listTutors(db, { activeOnly: opts.active === true }));
      if (opts.json) {
        io.out(JSON.stringify(rows.map(tutorJson), null, 2));
        return;
      }
      if (rows.length === 0) {
        io.out(opts.active ? 'no active tutors' : 'no tutors yet (add one with: tutordex tutors add --chat-id … --subjects … --levels …)');
        return;
      }
      io.out(
        table(
          ['chat id', 'name', 'subjects', 'levels', 'postal', 'km', 'active'],
          rows.map((t) => [
            t.chatId,
            t.displayName ?? '',
            list(t.subjects),
            list(t.levels),
            t.postalCode ?? '',
            t.maxDistanceKm ?? '',
            t.active ? 'yes' : 'no',
          ]),
        ),
      );
      io.out(`${rows.length} tutor${rows.length === 1 ? '' : 's'}`);
    });

  tutors
    .command('remove')
    .description('delete a tutor profile')
    .argument('<chat-id>', "the tutor's Telegram chat id")
    .action(async (chatId: string) => {
      const { removed, cancelledDms } = await withDatabase(shared.getConfig(), (db) => db.transaction((tx) => removeTutor(tx, chatId)));
      if (!removed) throw new UserError(`no tutor with chat id ${chatId.trim()}`);
      io.out(`removed tutor ${chatId.trim()}${cancelledDms > 0 ? ` (${cancelledDms} pending DM${cancelledDms === 1 ? '' : 's'} cancelled)` : ''}`);
    });

  tutors
    .command('import')
    .description('create or update tutors from a CSV (header row; lists separated by ; or |) or JSON (array) file; all or nothing')
    .argument('<file>', 'a .csv or .json file')
    .action(async (file: string) => {
      const result = await withDatabase(shared.getConfig(), (db) => importTutors(db, path.resolve(io.cwd, file)));
      io.out(`imported ${result.inserted + result.updated} tutors: ${result.inserted} inserted, ${result.updated} updated`);
    });
}
