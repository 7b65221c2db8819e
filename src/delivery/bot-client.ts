import { Api, GrammyError, HttpError } from 'grammy';

/** What went wrong with a Bot API call, reduced to what the dispatcher's retry policy needs. */
export type BotErrorKind = 'rate_limited' | 'forbidden' | 'bad_request' | 'server' | 'network';

/**
 * Whether a failed call may have taken effect at Telegram:
 * - 'no': the request never got there (connection refused, DNS failure, TLS handshake failure: all before a
 *   byte of the request was written);
 * - 'yes': Telegram answered with a refusal (4xx, 429 included), so it was reached and did not act;
 * - 'maybe': the request was (or may have been) written and no definite answer came back: a timeout, a reset or
 *   hang-up, a 5xx, an unreadable answer. The call may have been carried out.
 */
export type ReachedTelegram = 'no' | 'yes' | 'maybe';

/** A failed Bot API call. The message never contains the bot token. */
export class BotError extends Error {
  readonly kind: BotErrorKind;
  readonly retryAfterSeconds: number | null;
  readonly description: string;
  /** Telegram's error_code (HTTP-like), null for network failures. */
  readonly code: number | null;
  readonly reachedTelegram: ReachedTelegram;
  constructor(
    kind: BotErrorKind,
    description: string,
    opts: { retryAfterSeconds?: number | null; code?: number | null; method?: string; reachedTelegram?: ReachedTelegram } = {},
  ) {
    super(`Bot API ${opts.method ?? 'call'} failed (${opts.code ?? kind}): ${description}`);
    this.name = 'BotError';
    this.kind = kind;
    this.description = description;
    this.retryAfterSeconds = opts.retryAfterSeconds ?? null;
    this.code = opts.code ?? null;
    this.reachedTelegram = opts.reachedTelegram ?? (kind === 'network' || kind === 'server' ? 'maybe' : 'yes');
  }
}

/** Error codes (node / undici / node-fetch `code`) that prove the connection never carried the request. */
const NEVER_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EAI_NODATA',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'EADDRNOTAVAIL',
]);
/** TLS handshake failures (certificate, protocol): the request is only written after a completed handshake. */
const TLS_HANDSHAKE = /^(EPROTO$|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH$|ERR_TLS_CERT|ERR_SSL_|ERR_OSSL_)/;

/** 'no' when the cause chain of a fetch failure proves the request was never sent, else 'maybe'. */
function reachedByCause(err: unknown): ReachedTelegram {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e); ) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NEVER_CONNECTED.has(code) || TLS_HANDSHAKE.test(code))) return 'no';
    e = (e as { error?: unknown }).error ?? (e as { cause?: unknown }).cause;
  }
  return 'maybe';
}

/** One inline button: a link, or a callback the bot answers (`callback_data`, at most 64 bytes). */
export type InlineButton = { text: string; url: string } | { text: string; callback_data: string };
/** Rows of inline buttons under a message; null or empty = no keyboard. */
export type InlineKeyboard = readonly (readonly InlineButton[])[];

/** The three Bot API calls the outbox makes. Implementations throw `BotError`. */
export interface BotClient {
  /** The bot's user id (the token's numeric prefix, public): flood control is per bot. */
  readonly botId?: string;
  /** Longest a call may take (the dispatcher never starts a send so late that it could outlast the sending lease). */
  readonly timeoutSeconds?: number;
  /** sendMessage (HTML, no link preview, optional inline keyboard); resolves to the message_id. */
  send(chatId: string, html: string, keyboard: InlineKeyboard | null): Promise<number>;
  /** editMessageText (the keyboard is replaced too); "message is not modified" and a missing message count as done. */
  edit(chatId: string, messageId: number, html: string, keyboard: InlineKeyboard | null): Promise<'edited' | 'gone'>;
  /** deleteMessage; a message that is already gone (or can no longer be deleted) counts as done. */
  remove(chatId: string, messageId: number): Promise<void>;
}

export interface BotClientOptions {
  token: string;
  /** API root, e.g. a local Bot API server or a test fake (`http://127.0.0.1:1234`); default api.telegram.org. */
  apiUrl?: string | null;
  /** Per-call timeout; keep it well under the dispatcher's lease (90 s). Default 30. */
  timeoutSeconds?: number;
}

const GONE = ['message to edit not found', 'message to delete not found', "message can't be deleted", 'message identifier is not specified'];

function markup(keyboard: InlineKeyboard | null) {
  const rows = (keyboard ?? []).filter((row) => row.length > 0).map((row) => row.map((b) => ({ ...b })));
  return rows.length > 0 ? { inline_keyboard: rows } : undefined;
}

export function createBotClient(opts: BotClientOptions): BotClient {
  const token = opts.token;
  const api = new Api(token, {
    apiRoot: (opts.apiUrl ?? '').replace(/\/+$/, '') || undefined,
    timeoutSeconds: opts.timeoutSeconds ?? 30,
  });
  const redact = (s: string) => (token ? s.split(token).join('<token>') : s);

  function toBotError(err: unknown, method: string): BotError {
    if (err instanceof BotError) return err;
    if (err instanceof GrammyError) {
      const code = err.error_code;
      const description = redact(err.description ?? 'unknown error');
      if (code === 429) {
        const ra = err.parameters?.retry_after;
        return new BotError('rate_limited', description, { code, method, retryAfterSeconds: typeof ra === 'number' ? ra : null });
      }
      if (code === 403) return new BotError('forbidden', description, { code, method });
      if (code >= 500) return new BotError('server', description, { code, method, reachedTelegram: 'maybe' });
      return new BotError('bad_request', description, { code, method });
    }
    if (err instanceof HttpError) {
      const inner = err.error instanceof Error ? `: ${err.error.message}` : '';
      return new BotError('network', redact(`${err.message}${inner}`), { method, reachedTelegram: reachedByCause(err.error) });
    }
    const message = err instanceof Error ? err.message : String(err);
    return new BotError('network', redact(message), { method, reachedTelegram: reachedByCause(err) });
  }

  const isGone = (e: BotError) => e.kind === 'bad_request' && GONE.some((g) => e.description.toLowerCase().includes(g));

  return {
    botId: /^\d+(?=:)/.exec(token)?.[0] ?? 'bot',
    timeoutSeconds: opts.timeoutSeconds ?? 30,
    async send(chatId, html, keyboard) {
      try {
        const m = await api.sendMessage(chatId, html, {
          parse_mode: 'HTML',
          link_preview_options: { is_disabled: true },
          reply_markup: markup(keyboard),
        });
        return m.message_id;
      } catch (err) {
        throw toBotError(err, 'sendMessage');
      }
    },
    async edit(chatId, messageId, html, keyboard) {
      try {
        await api.editMessageText(chatId, messageId, html, {
          parse_mode: 'HTML',
          link_preview_options: { is_disabled: true },
          reply_markup: markup(keyboard),
        });
        return 'edited';
      } catch (err) {
        const e = toBotError(err, 'editMessageText');
        if (e.kind === 'bad_request' && e.description.toLowerCase().includes('message is not modified')) return 'edited';
        if (isGone(e)) return 'gone';
        throw e;
      }
    },
    async remove(chatId, messageId) {
      try {
        await api.deleteMessage(chatId, messageId);
      } catch (err) {
        const e = toBotError(err, 'deleteMessage');
        if (isGone(e)) return;
        throw e;
      }
    },
  };
}
