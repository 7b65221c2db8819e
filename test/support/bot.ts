import pino from 'pino';
import type { Queryable } from '../../src/db/index.ts';
import { runTutorBot, type TutorBot } from '../../src/bot/index.ts';
import type { Database } from '../../src/db/index.ts';
import type { FakeBotApi } from './fake-bot-api.ts';

export const BOT_TOKEN = '123456:TEST-bot-token-never-logged';

export const silentLog = pino({ level: 'silent' });

export async function until(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface RunningBot {
  stop(): Promise<TutorBot>;
  /** Wait until the bot has confirmed (processed) the update with this id. */
  processed(updateId: number): Promise<void>;
}

/** Run the tutor bot against the fake Bot API with long polling (1 s getUpdates timeout). */
export async function startBot(
  api: FakeBotApi,
  db: Database,
  opts: { perMinute?: number; threshold?: number; log?: typeof silentLog; now?: () => number } = {},
): Promise<RunningBot> {
  const ctrl = new AbortController();
  const running = runTutorBot({
    db,
    token: BOT_TOKEN,
    apiUrl: api.url,
    log: opts.log ?? silentLog,
    signal: ctrl.signal,
    commandsPerMinute: opts.perMinute ?? 1000,
    feedbackFilledThreshold: opts.threshold ?? 3,
    pollTimeoutSeconds: 1,
    now: opts.now,
  });
  let failed: unknown = null;
  running.catch((err) => (failed = err));
  await until('the bot to poll', () => {
    if (failed) throw failed;
    return api.calls.some((c) => c.method === 'getUpdates');
  });
  return {
    stop: async () => {
      ctrl.abort();
      return running;
    },
    processed: (updateId) =>
      until(`update ${updateId} to be processed`, () => {
        if (failed) throw failed;
        // grammY asks for the next batch (offset past this update) only after handling the batch that held it
        return api.calls.some((c) => c.method === 'getUpdates' && Number(c.body.offset ?? 0) > updateId);
      }),
  };
}

/** Texts the bot sent to a chat, in order. */
export const sentTo = (api: FakeBotApi, chatId: number): string[] =>
  api.calls.filter((c) => c.method === 'sendMessage' && String(c.chatId) === String(chatId) && c.status === 200).map((c) => String(c.body.text));

let agencySeq = 0;

export interface TestAssignment {
  status?: 'open' | 'closed' | 'expired';
  title?: string;
  subjectsCanonical?: string[];
  subjectsGeneral?: string[];
  levels?: string[];
  specificLevels?: string[];
  learningMode?: string | null;
  lat?: number | null;
  lon?: number | null;
  region?: string | null;
  rateMin?: number | null;
  rateMax?: number | null;
  tutorTypes?: string[];
  minutesAgo?: number;
  isPrimary?: boolean;
}

export async function insertAssignment(db: Queryable, a: TestAssignment = {}): Promise<number> {
  const n = ++agencySeq;
  const [agency] = await db.query<{ id: number }>(
    `insert into agencies (channel_link, agency_display_name) values ($1, $2)
     on conflict (channel_link) do update set agency_display_name = excluded.agency_display_name returning id`,
    [`t.me/botagency${n % 5}`, `Agency ${n % 5}`],
  );
  const [row] = await db.query<{ id: number }>(
    `insert into assignments (agency_id, external_id, status, academic_display_text, subjects, subjects_canonical, subjects_general, levels,
        specific_levels, learning_mode, postal_lat, postal_lon, region, rate_min, rate_max, tutor_types, message_link, published_at, is_primary)
     values ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, now() - make_interval(mins => $17::int), $18)
     returning id`,
    [
      agency!.id,
      `ext-${n}`,
      a.status ?? 'open',
      a.title ?? `Assignment ${n}`,
      a.subjectsCanonical ?? ['MATH.SEC_EMATH'],
      a.subjectsGeneral ?? ['MATH'],
      a.levels ?? ['Secondary'],
      a.specificLevels ?? [],
      a.learningMode ?? null,
      a.lat ?? null,
      a.lon ?? null,
      a.region ?? null,
      a.rateMin ?? null,
      a.rateMax ?? null,
      a.tutorTypes ?? [],
      `https://t.me/botagency${n % 5}/${n}`,
      a.minutesAgo ?? n,
      a.isPrimary ?? true,
    ],
  );
  return row!.id;
}
