import { autoRetry } from '@grammyjs/auto-retry';
import { Bot, GrammyError, type Context } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type { Log } from '../collector/index.ts';
import type { Database } from '../db/index.ts';
import { resolveLevels, resolveSubjects, getTutorByChatId, previewMatches, type Tutor } from '../tutors/index.ts';
import { FEEDBACK_LABELS, parseFeedbackData, recordFeedback } from './feedback.ts';
import {
  HELP_TEXT,
  MODE_KEYBOARD,
  MODE_VALUES,
  PAGE_SIZE,
  PICKER_NAMES,
  deleteTutorData,
  formatProfile,
  modeText,
  shortList,
  parseArea,
  parseDistance,
  parseLimit,
  parseRate,
  patchTutor,
  pickerKeyboard,
  pickerOptions,
  pickerText,
  startTutor,
  type PickerKind,
  type TutorPatch,
} from './profile.ts';
import { ChatRateLimiter } from './rate-limit.ts';
import { clearChatState, getChatState, setAwaiting, setDraft, type Awaiting } from './state.ts';

export interface TutorBotOptions {
  db: Database;
  token: string;
  /** Bot API root (a self-hosted server or a test fake); default api.telegram.org. */
  apiUrl?: string | null;
  log: Log;
  /** Commands and button presses per chat per minute. */
  commandsPerMinute: number;
  /** Distinct tutors' "filled" reports that close an assignment. */
  feedbackFilledThreshold: number;
  /** Clock for the rate limiter (tests). */
  now?: () => number;
  /** Skip getMe (tests, or a known bot). */
  botInfo?: UserFromGetMe;
}

export interface TutorBotStats {
  updates: number;
  ignored: number;
  rateLimited: number;
  errors: number;
  blocked: number;
}

export interface TutorBot {
  readonly bot: Bot;
  readonly stats: TutorBotStats;
  readonly limiter: ChatRateLimiter;
}

const COMMAND = /^\/([A-Za-z_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?:\s+([\s\S]*))?$/;
const MAX_TEXT = 1000;
const MAX_LIST = 60;

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The tutor-facing bot: a grammY `Bot` whose middleware answers private chats only (groups, channels and any
 * other update are ignored), rate-limits each chat, keeps multi-step state in the database, and records DM
 * feedback buttons. Errors are logged (the logger scrubs secrets) and never stop the bot.
 */
export function createTutorBot(o: TutorBotOptions): TutorBot {
  const { db, log } = o;
  const bot = new Bot(o.token, {
    client: { apiRoot: (o.apiUrl ?? '').replace(/\/+$/, '') || undefined, timeoutSeconds: 60 },
    ...(o.botInfo ? { botInfo: o.botInfo } : {}),
  });
  // A 429 or a 5xx on a reply is retried briefly (short waits only: one chat must not hold up the others).
  bot.api.config.use(autoRetry({ maxRetryAttempts: 2, maxDelaySeconds: 5, rethrowInternalServerErrors: false, rethrowHttpErrors: true }));
  const limiter = new ChatRateLimiter({ perMinute: o.commandsPerMinute, now: o.now });
  const stats: TutorBotStats = { updates: 0, ignored: 0, rateLimited: 0, errors: 0, blocked: 0 };

  /** A 403 from Telegram in a private chat: the tutor blocked the bot; pause them (as the outbox does). */
  async function onSendError(chatId: number, err: unknown): Promise<void> {
    if (err instanceof GrammyError && err.error_code === 403) {
      stats.blocked++;
      await db
        .query(`update tutors set active = false, inactive_reason = 'blocked_bot', updated_at = now() where chat_id = $1 and active`, [chatId])
        .catch(() => {});
      log.warn({ chat_id: chatId }, 'bot_blocked_by_user');
      return;
    }
    throw err;
  }

  bot.use(async (ctx, next) => {
    stats.updates++;
    const chat = ctx.chat ?? ctx.callbackQuery?.message?.chat;
    const privateChat = chat?.type === 'private' && ctx.from !== undefined && ctx.from.id === chat.id && !ctx.from.is_bot;
    const relevant = (ctx.message?.text !== undefined || ctx.callbackQuery?.data !== undefined) && !ctx.editedMessage;
    if (!privateChat || !relevant) {
      stats.ignored++;
      return;
    }
    const decision = limiter.take(chat.id);
    if (decision !== 'ok') {
      stats.rateLimited++;
      if (decision === 'warn') {
        try {
          if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text: 'Slow down a little, please.' });
          else await ctx.reply('Slow down a little, please: too many commands. Try again in a minute.');
        } catch (err) {
          await onSendError(chat.id, err).catch(() => {});
        }
      }
      return;
    }
    try {
      await next();
    } catch (err) {
      stats.errors++;
      log.error({ chat_id: chat.id, error: errorMessage(err) }, 'bot_update_failed');
    }
  });

  bot.on('message:text', async (ctx) => {
    const chatId = ctx.chat.id;
    const text = ctx.message.text.slice(0, MAX_TEXT);
    const reply = async (message: string, extra: Parameters<Context['reply']>[1] = {}) => {
      try {
        await ctx.reply(message, extra);
      } catch (err) {
        await onSendError(chatId, err);
      }
    };
    try {
      await handleText(chatId, text, ctx.from.first_name ?? null, reply);
    } catch (err) {
      if (err instanceof GrammyError) throw err;
      stats.errors++;
      log.error({ chat_id: chatId, error: errorMessage(err) }, 'bot_command_failed');
      await reply('Sorry, something went wrong on our side. Please try again.').catch(() => {});
    }
  });

  bot.on('callback_query:data', async (ctx) => {
    const chatId = ctx.callbackQuery.message!.chat.id;
    const data = ctx.callbackQuery.data;
    const answer = async (text?: string) => {
      try {
        await ctx.answerCallbackQuery(text ? { text } : {});
      } catch (err) {
        await onSendError(chatId, err).catch((e) => log.warn({ chat_id: chatId, error: errorMessage(e) }, 'bot_answer_failed'));
      }
    };
    try {
      await handleCallback(ctx, chatId, data, answer);
    } catch (err) {
      stats.errors++;
      log.error({ chat_id: chatId, error: errorMessage(err) }, 'bot_callback_failed');
      await answer('Sorry, something went wrong. Please try again.');
    }
  });

  bot.catch((err) => {
    stats.errors++;
    log.error({ error: errorMessage(err.error) }, 'bot_middleware_failed');
  });

  type Reply = (message: string, extra?: Parameters<Context['reply']>[1]) => Promise<void>;

  const needTutor = async (chatId: number, reply: Reply): Promise<Tutor | null> => {
    const t = await getTutorByChatId(db, chatId);
    if (!t) await reply('You have no TutorDex profile yet. Send /start to create one.');
    return t;
  };

  const saved = async (chatId: number, patch: TutorPatch, reply: Reply, note = 'Saved.') => {
    const t = await patchTutor(db, chatId, patch);
    await setAwaiting(db, chatId, null);
    if (!t) return reply('You have no TutorDex profile yet. Send /start to create one.');
    return reply(`✅ ${note}\n\n${formatProfile(t)}`);
  };

  const refuse = (reason: string, kept: string, reply: Reply) => reply(`⚠️ Not changed: ${reason.slice(0, 1500)}.\nKept: ${kept}. Try again, or /help.`);

  async function applyField(chatId: number, field: Awaiting, input: string, t: Tutor, reply: Reply): Promise<void> {
    switch (field) {
      case 'area': {
        const r = parseArea(input);
        const kept = t.postalCode ?? (t.regions.length ? t.regions.join(', ') : 'anywhere');
        if (!r.ok) return refuse(r.reason, kept, reply);
        return saved(
          chatId,
          { postal_code: r.value.postal.code, postal_lat: r.value.postal.lat, postal_lon: r.value.postal.lon, regions: r.value.regions },
          reply,
        );
      }
      case 'distance': {
        const r = parseDistance(input);
        if (!r.ok) return refuse(r.reason, `${t.maxDistanceKm ?? 5} km`, reply);
        return saved(chatId, { max_distance_km: r.value }, reply);
      }
      case 'rate': {
        const r = parseRate(input);
        if (!r.ok) return refuse(r.reason, t.minRate === null ? 'any rate' : `$${t.minRate}/h`, reply);
        return saved(chatId, { min_rate: r.value }, reply);
      }
      case 'limit': {
        const r = parseLimit(input);
        if (!r.ok) return refuse(r.reason, `${t.dmDailyLimit} per day`, reply);
        return saved(chatId, { dm_daily_limit: r.value }, reply);
      }
    }
  }

  const PROMPTS: Record<Awaiting, string> = {
    area: 'Send your six-digit postal code (e.g. 520123) or a region (North, North-East, East, West, Central), or "any".',
    distance: 'Send the most km you would travel from your postal code (0.5 to 50).',
    rate: 'Send your minimum hourly rate in dollars (e.g. 40), or "any".',
    limit: 'Send the most DMs you want per day (1 to 100).',
  };

  function splitList(args: string): string[] {
    return args
      .split(/[,;|\n]/)
      .map((s) => s.trim())
      .filter(Boolean)
      .slice(0, MAX_LIST);
  }

  async function openPicker(chatId: number, kind: PickerKind, current: string[], reply: Reply): Promise<void> {
    await setDraft(db, chatId, PICKER_NAMES[kind].draft, current);
    await setAwaiting(db, chatId, null);
    await reply(pickerText(kind, current), { reply_markup: pickerKeyboard(kind, current, 0) });
  }

  async function handleText(chatId: number, text: string, firstName: string | null, reply: Reply): Promise<void> {
    const m = COMMAND.exec(text.trim());
    if (!m) {
      const state = await getChatState(db, chatId);
      if (state.awaiting) {
        const t = await needTutor(chatId, reply);
        if (t) await applyField(chatId, state.awaiting, text, t, reply);
        return;
      }
      return reply("I didn't understand that. Send /help for the list of commands.");
    }
    const command = m[1]!.toLowerCase();
    const args = (m[2] ?? '').trim();

    if (command === 'start') {
      await clearChatState(db, chatId);
      const { tutor, created } = await startTutor(db, chatId, firstName?.slice(0, 100) ?? null);
      const hint =
        tutor.subjects.length === 0 || tutor.levels.length === 0 ? '\n\nNext: choose /subjects and /levels, then /area. /help lists everything.' : '';
      return reply(`${created ? 'Welcome to TutorDex!' : 'Welcome back: your profile is active again.'}\n\n${formatProfile(tutor)}${hint}`);
    }
    if (command === 'help') return reply(HELP_TEXT);

    const known = ['profile', 'subjects', 'levels', 'area', 'distance', 'rate', 'mode', 'types', 'limit', 'pause', 'resume', 'stop', 'preview', 'cancel'];
    if (!known.includes(command)) return reply(`Unknown command /${command.slice(0, 32)}. Send /help for the list.`);

    const t = await needTutor(chatId, reply);
    if (!t) return;
    switch (command) {
      case 'profile':
        return reply(formatProfile(t));
      case 'cancel':
        await clearChatState(db, chatId);
        return reply(`Cancelled.\n\n${formatProfile(t)}`);
      case 'subjects':
      case 'levels': {
        const kind: PickerKind = command === 'subjects' ? 's' : 'l';
        if (!args) return openPicker(chatId, kind, command === 'subjects' ? t.subjects : t.levels, reply);
        try {
          const values = kind === 's' ? resolveSubjects(splitList(args), t.levels) : resolveLevels(splitList(args));
          if (values.length === 0) return refuse(`no ${command} given`, shortList(kind === 's' ? t.subjects : t.levels) || 'none', reply);
          return saved(chatId, kind === 's' ? { subjects: values } : { levels: values }, reply);
        } catch (err) {
          return refuse(errorMessage(err), shortList(kind === 's' ? t.subjects : t.levels) || 'none', reply);
        }
      }
      case 'types':
        return openPicker(chatId, 't', t.tutorTypes, reply);
      case 'mode': {
        if (!args) return reply('How do you want to teach?', { reply_markup: MODE_KEYBOARD });
        const key = args.toLowerCase().replace(/[\s_-]+/g, '');
        const mode =
          key === 'online'
            ? 'online'
            : ['f2f', 'facetoface', 'inperson', 'home'].includes(key)
              ? 'f2f'
              : ['both', 'any', 'hybrid', 'all'].includes(key)
                ? 'both'
                : null;
        if (!mode) return refuse(`"${args.slice(0, 20)}" is not a mode (online, face-to-face or both)`, modeText(t.learningModes), reply);
        return saved(chatId, { learning_modes: MODE_VALUES[mode] }, reply);
      }
      case 'area':
      case 'distance':
      case 'rate':
      case 'limit': {
        if (args) return applyField(chatId, command, args, t, reply);
        await setAwaiting(db, chatId, command);
        return reply(PROMPTS[command]);
      }
      case 'pause':
        return saved(chatId, { active: false, inactive_reason: 'paused' }, reply, 'Paused: no DMs until you send /resume.');
      case 'resume':
        return saved(chatId, { active: true, inactive_reason: null }, reply, 'Resumed: DMs are on.');
      case 'stop':
        await deleteTutorData(db, chatId);
        return reply('Your TutorDex profile and feedback are deleted; you will get no more DMs. Send /start to begin again.');
      case 'preview':
        return reply(await previewText(t));
    }
  }

  async function previewText(t: Tutor): Promise<string> {
    if (!t.active) return 'Your profile is paused, so nothing would be sent. /resume turns DMs back on.';
    if (t.subjects.length === 0 || t.levels.length === 0) return 'Choose /subjects and /levels first; until then nothing matches.';
    const r = await previewMatches(db, { ...t }, { limit: 3 });
    if (r.count === 0) return 'No open assignment matches your preferences right now. Try widening /area, /distance or /rate.';
    const lines = [`${r.count} open assignment${r.count === 1 ? '' : 's'} match${r.count === 1 ? 'es' : ''} your preferences. Newest:`];
    for (const a of r.newest) {
      const rate = a.rateMin !== null || a.rateMax !== null ? ` · $${[a.rateMin, a.rateMax].filter((x) => x !== null).join('–')}/h` : '';
      const where = a.learningMode?.toLowerCase() === 'online' ? ' · online' : a.region ? ` · ${a.region}` : '';
      const dist = a.distanceKm !== null ? ` · ${a.distanceKm.toFixed(1)} km` : '';
      const title = (a.title ?? [...a.subjects, ...a.levels].join(', ')) || `assignment ${a.id}`;
      lines.push(`• ${title.slice(0, 120)}${where}${dist}${rate}${a.messageLink ? `\n  ${a.messageLink}` : ''}`);
    }
    return lines.join('\n');
  }

  type Answer = (text?: string) => Promise<void>;

  async function handleCallback(ctx: Context, chatId: number, data: string, answer: Answer): Promise<void> {
    if (data === 'noop') return answer();
    if (data.startsWith('fb:')) return handleFeedback(ctx, chatId, data, answer);
    let m = /^pk:([slt]):(t|p):(\d{1,4})$/.exec(data) ?? /^pk:([slt]):(c|d)$/.exec(data);
    if (m) return handlePicker(ctx, chatId, m[1] as PickerKind, m[2]!, m[3] === undefined ? 0 : Number(m[3]), answer);
    m = /^md:(online|f2f|both)$/.exec(data);
    if (m) {
      const t = await patchTutor(db, chatId, { learning_modes: MODE_VALUES[m[1]!] });
      if (!t) return answer('Send /start first.');
      await answer('Saved');
      await editMarkup(ctx, chatId, { inline_keyboard: [] });
      try {
        await ctx.reply(`✅ Saved.\n\n${formatProfile(t)}`);
      } catch (err) {
        await onSendError(chatId, err);
      }
      return;
    }
    log.warn({ chat_id: chatId, data: data.slice(0, 64) }, 'bot_callback_malformed');
    return answer('Sorry, this button is not valid.');
  }

  async function editMarkup(
    ctx: Context,
    chatId: number,
    markup: { inline_keyboard: Array<Array<{ text: string; callback_data?: string; url?: string }>> },
  ): Promise<void> {
    try {
      await ctx.editMessageReplyMarkup({ reply_markup: markup as never });
    } catch (err) {
      if (err instanceof GrammyError && /not modified|not found/i.test(err.description)) return;
      await onSendError(chatId, err).catch((e) => log.warn({ chat_id: chatId, error: errorMessage(e) }, 'bot_edit_failed'));
    }
  }

  async function handlePicker(ctx: Context, chatId: number, kind: PickerKind, action: string, n: number, answer: Answer): Promise<void> {
    const t = await getTutorByChatId(db, chatId);
    if (!t) return answer('Send /start first.');
    const key = PICKER_NAMES[kind].draft;
    const state = await getChatState(db, chatId);
    const current = kind === 's' ? t.subjects : kind === 'l' ? t.levels : t.tutorTypes;
    let selected = state.draft[key] ?? current;
    const options = pickerOptions(kind);
    let page = 0;
    if (action === 't') {
      const option = options[n];
      if (!option) return answer('Sorry, this button is not valid.');
      selected = selected.includes(option.value) ? selected.filter((v) => v !== option.value) : [...selected, option.value];
      page = Math.floor(n / PAGE_SIZE);
    } else if (action === 'p') {
      page = n;
      if (page * PAGE_SIZE >= options.length) return answer('Sorry, this button is not valid.');
    } else if (action === 'c') selected = [];
    else {
      // Done: save the draft (subjects and levels need at least one; tutor types may be empty = any)
      if (selected.length === 0 && kind !== 't') {
        return answer(`Pick at least one of the ${PICKER_NAMES[kind].noun} first.`);
      }
      const values =
        kind === 's' ? resolveSubjects(selected) : kind === 'l' ? resolveLevels(selected) : selected.filter((v) => options.some((o) => o.value === v));
      const patched = await patchTutor(db, chatId, kind === 's' ? { subjects: values } : kind === 'l' ? { levels: values } : { tutor_types: values });
      await setDraft(db, chatId, key, null);
      await answer('Saved');
      await editMarkup(ctx, chatId, { inline_keyboard: [] });
      try {
        await ctx.reply(`✅ Saved.\n\n${formatProfile(patched!)}`);
      } catch (err) {
        await onSendError(chatId, err);
      }
      return;
    }
    await setDraft(db, chatId, key, selected);
    await answer();
    try {
      await ctx.editMessageText(pickerText(kind, selected), { reply_markup: pickerKeyboard(kind, selected, page) });
    } catch (err) {
      if (err instanceof GrammyError && /not modified|not found/i.test(err.description)) return;
      await onSendError(chatId, err);
    }
  }

  async function handleFeedback(ctx: Context, chatId: number, data: string, answer: Answer): Promise<void> {
    const parsed = parseFeedbackData(data);
    if (!parsed) {
      log.warn({ chat_id: chatId, data: data.slice(0, 64) }, 'bot_feedback_malformed');
      return answer('Sorry, this button is not valid.');
    }
    const outcome = await recordFeedback(db, { chatId, assignmentId: parsed.assignmentId, kind: parsed.kind, threshold: o.feedbackFilledThreshold });
    if (outcome.status === 'no_tutor') return answer('You have no TutorDex profile; send /start first.');
    if (outcome.status === 'no_assignment') return answer('This assignment is no longer in TutorDex.');
    log.info({ chat_id: chatId, assignment_id: parsed.assignmentId, kind: parsed.kind, status: outcome.status, closed: outcome.closed }, 'bot_feedback');
    await answer(outcome.status === 'duplicate' ? 'Already recorded. Thank you!' : `Thanks! Recorded: ${FEEDBACK_LABELS[parsed.kind]}.`);
    const markup = ctx.callbackQuery?.message?.reply_markup;
    if (!markup) return;
    let changed = false;
    const rows = markup.inline_keyboard.map((row) =>
      row.map((b) => {
        if ('callback_data' in b && b.callback_data === data && !b.text.startsWith('✅')) {
          changed = true;
          return { ...b, text: `✅ ${b.text}` };
        }
        return b;
      }),
    );
    if (changed) await editMarkup(ctx, chatId, { inline_keyboard: rows as never });
  }

  return { bot, stats, limiter };
}
