import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { parseChannelList } from './channels.ts';
import { formatQuietHours, parseQuietHours } from './quiet-hours.ts';

/**
 * Every environment variable TutorDex reads, in one table: name, the seed's aliases, how it parses, its
 * default, whether it is a secret, and what it means. The table drives parsing, `tutordex config` and the
 * README's configuration table, so they cannot drift apart.
 */

type Parser<T> = { parse: (raw: string) => T; accepts: string };

const TRUE = new Set(['1', 'true', 'yes', 'y', 'on', 't']);
const FALSE = new Set(['0', 'false', 'no', 'n', 'off', 'f']);

const bool: Parser<boolean> = {
  accepts: '1/0, true/false, yes/no, on/off',
  parse(raw) {
    const v = raw.toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    throw new Error();
  },
};

function int(min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> {
  const schema = z.coerce.number().int().min(min).max(max);
  return {
    accepts: max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`,
    parse: (raw) => {
      if (!/^[+-]?\d+$/.test(raw)) throw new Error();
      return schema.parse(raw);
    },
  };
}

function num(min: number, max = Number.MAX_VALUE): Parser<number> {
  const schema = z.coerce.number().min(min).max(max);
  return {
    accepts: max === Number.MAX_VALUE ? `a number ≥ ${min}` : `a number from ${min} to ${max}`,
    parse: (raw) => {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(raw)) throw new Error();
      return schema.parse(raw);
    },
  };
}

const text: Parser<string> = { accepts: 'text', parse: (raw) => raw };

function oneOf<const T extends string>(...values: T[]): Parser<T> {
  return {
    accepts: values.join(' | '),
    parse: (raw) => {
      const v = raw.toLowerCase();
      if (!(values as string[]).includes(v)) throw new Error();
      return v as T;
    },
  };
}

function url(protocols: string[], accepts: string, normalise: (raw: string) => string = (raw) => raw): Parser<string> {
  return {
    accepts,
    parse: (raw) => {
      if (!URL.canParse(raw) || !protocols.includes(new URL(raw).protocol)) throw new Error();
      return normalise(raw);
    },
  };
}

const postgresUrl = url(['postgres:', 'postgresql:'], 'a postgres:// or postgresql:// connection string');
const httpUrl = url(['http:', 'https:'], 'an http:// or https:// URL', (raw) => raw.replace(/\/+$/, ''));

/** Bot API chat targets: numeric ids stay as they are; t.me/x, https://t.me/x and bare names become @x. */
const chatList: Parser<string[]> = {
  accepts: 'chat ids or @names, comma-separated or a JSON array',
  parse: (raw) => {
    let items: unknown[];
    const trimmed = raw.trim();
    if (trimmed.startsWith('[')) {
      const parsed: unknown = JSON.parse(trimmed);
      if (!Array.isArray(parsed)) throw new Error();
      items = parsed;
    } else items = trimmed.split(',');
    return items
      .map((item) => {
        const v = String(item).trim();
        if (/^-?\d+$/.test(v)) return v;
        const name = v.replace(/^(https?:\/\/)?t\.me\//i, '').replace(/^@/, '');
        if (!/^[A-Za-z][A-Za-z0-9_]{3,}$/.test(name)) throw new Error();
        return `@${name}`;
      })
      .filter((v, i, all) => all.indexOf(v) === i);
  },
};

/** An http(s) base address to build links under: no credentials, query or fragment; trailing slashes dropped. */
const publicBaseUrl: Parser<string> = {
  accepts: 'an http:// or https:// URL without credentials, query or fragment',
  parse: (raw) => {
    if (!URL.canParse(raw)) throw new Error();
    const u = new URL(raw);
    if (!['http:', 'https:'].includes(u.protocol) || u.username || u.password || u.search || u.hash || raw.includes('?') || raw.includes('#'))
      throw new Error();
    return `${u.origin}${u.pathname}`.replace(/\/+$/, '');
  },
};

/** DM quiet hours: kept as canonical text (`23:00-07:00` or `off`); config.ts turns it into a window. */
const quietHours: Parser<string> = {
  accepts: 'HH:MM-HH:MM (Singapore time) or off',
  parse: (raw) => formatQuietHours(parseQuietHours(raw)),
};

const channelList: Parser<string[]> = {
  accepts: 'channel references, comma-separated or a JSON array (@name, t.me/name, -100…)',
  parse: (raw) => parseChannelList(raw),
};

interface VarSpec<T> {
  aliases?: string[];
  parser: Parser<T>;
  default: T;
  secret?: boolean;
  help: string;
  /** Recognised for compatibility with the earlier system but not needed here. */
  notNeeded?: string;
}

function v<T>(spec: VarSpec<T>): VarSpec<T> {
  return spec;
}

export const ENV_VARS = {
  // --- database
  DATABASE_URL: v({
    parser: postgresUrl,
    default: null as string | null,
    secret: true,
    help: 'Postgres connection string. Unset: the embedded PGlite database in TUTORDEX_DATA_DIR.',
  }),
  SUPABASE_DB_URL: v({
    parser: postgresUrl,
    default: null as string | null,
    secret: true,
    help: "Alternative name for DATABASE_URL (a Supabase project's Postgres connection string).",
  }),
  TUTORDEX_DATA_DIR: v({ parser: text, default: './.tutordex/db', help: 'Data directory of the embedded database (one process at a time).' }),
  // --- pipeline and queue
  EXTRACTION_PIPELINE_VERSION: v({
    parser: text,
    default: '2026-01-02_det_time_v1',
    help: 'Queue lane: jobs are keyed by (raw message, pipeline version). Bump it to reprocess into a new set of results.',
  }),
  SCHEMA_VERSION: v({ parser: text, default: '2026-01-01', help: 'Label written into logs and payloads.' }),
  CHANNEL_LIST: v({ aliases: ['CHANNELS'], parser: channelList, default: [] as string[], help: 'Channels to collect (comma-separated or JSON array).' }),
  EXTRACTION_QUEUE_ENABLED: v({ parser: bool, default: true, help: 'Enqueue extraction jobs while collecting. 0 = collect raw messages only.' }),
  EXTRACTION_MODE: v({
    parser: oneOf('llm', 'rules'),
    default: null as 'llm' | 'rules' | null,
    help: 'Extractor: llm or rules. Default: llm when LLM_API_URL is set, else rules.',
  }),
  // --- TutorCity (a non-Telegram source: its public assignments API)
  TUTORCITY_ENABLED: v({ parser: bool, default: false, help: '`live` also polls the TutorCity assignments API.' }),
  TUTORCITY_API_URL: v({
    parser: httpUrl,
    default: 'https://tutorcity.sg/api/tuition-assignments',
    help: 'TutorCity assignments endpoint (GET ?limit=N, JSON).',
  }),
  TUTORCITY_LIMIT: v({ parser: int(1, 500), default: 50, help: 'Rows asked for per poll (the newest first).' }),
  TUTORCITY_POLL_SECONDS: v({ parser: num(10), default: 300, help: 'Seconds between polls.' }),
  TUTORCITY_TIMEOUT_SECONDS: v({ parser: num(1), default: 30, help: 'Timeout of one poll request (seconds).' }),
  // --- worker
  EXTRACTION_WORKER_BROADCAST: v({
    aliases: ['ENABLE_BROADCAST'],
    parser: bool,
    default: false,
    help: 'Worker posts new assignments to the broadcast channel. Never turns on by itself.',
  }),
  EXTRACTION_WORKER_DMS: v({ aliases: ['ENABLE_DMS'], parser: bool, default: false, help: 'Worker sends DMs to matched tutors. Never turns on by itself.' }),
  EXTRACTION_WORKER_ONESHOT: v({ parser: bool, default: false, help: 'Worker exits 0 once no job of this version is pending or processing.' }),
  EXTRACTION_WORKER_MAX_JOBS: v({ parser: int(0), default: 0, help: 'Worker stops claiming after N jobs (0 = no limit).' }),
  EXTRACTION_WORKER_BATCH_SIZE: v({ aliases: ['EXTRACTION_WORKER_BATCH'], parser: int(1, 1000), default: 10, help: 'Jobs claimed per round trip.' }),
  EXTRACTION_WORKER_CONCURRENCY: v({ parser: int(1, 256), default: 4, help: 'Jobs processed at once in one worker process (hides LLM latency).' }),
  EXTRACTION_WORKER_IDLE_S: v({ parser: num(0.05), default: 2, help: 'Poll interval when idle; NOTIFY wakes the worker sooner.' }),
  EXTRACTION_MAX_ATTEMPTS: v({ parser: int(1, 100), default: 3, help: 'Attempts per job before a transient failure becomes failed.' }),
  EXTRACTION_BACKOFF_BASE_S: v({ parser: num(0), default: 1.5, help: 'Backoff base between attempts (seconds).' }),
  EXTRACTION_BACKOFF_MAX_S: v({ parser: num(0), default: 60, help: 'Backoff cap (seconds).' }),
  EXTRACTION_STALE_PROCESSING_SECONDS: v({ parser: int(0), default: 900, help: 'Jobs left processing longer than this go back to pending (0 = never).' }),
  EXTRACTION_STALE_REQUEUE_LIMIT: v({
    parser: int(1, 100),
    default: 3,
    help: 'A job found stale this many times (its worker died mid-job each time) is failed with stale_requeue_limit instead of going back to pending again.',
  }),
  // --- recovery catch-up
  RECOVERY_CATCHUP_ENABLED: v({ parser: bool, default: true, help: 'live: run the catch-up backfill beside the tail.' }),
  RECOVERY_CATCHUP_STATE_FILE: v({
    parser: text,
    default: 'state/recovery_catchup_state.json',
    help: 'Old catch-up state file: imported once, and only if it names this database (catch-up state is kept in the database now).',
  }),
  RECOVERY_CATCHUP_CHECK_INTERVAL_SECONDS: v({ parser: int(5, 600), default: 30, help: 'Pause between catch-up rounds and backlog polls.' }),
  RECOVERY_CATCHUP_CHUNK_HOURS: v({ parser: int(1, 72), default: 6, help: 'Width of each catch-up slice per channel.' }),
  RECOVERY_CATCHUP_OVERLAP_MINUTES: v({ parser: int(0, 120), default: 10, help: 'Each slice starts this much before the cursor.' }),
  RECOVERY_CATCHUP_TARGET_LAG_MINUTES: v({
    parser: int(0, 60),
    default: 2,
    help: 'Ignored (kept so old .env files load): catch-up now reads up to the moment the tail began listening, plus the overlap.',
  }),
  RECOVERY_GAP_CHECK_MINUTES: v({
    parser: int(0, 1440),
    default: 5,
    help: 'tail/live: read each channel above its newest stored post this often (and after every reconnect) for posts whose updates were lost; 0 = only after reconnects.',
  }),
  RECOVERY_CATCHUP_QUEUE_LOW_WATERMARK: v({ parser: int(0), default: 0, help: 'A round starts only when pending+processing jobs ≤ this.' }),
  RECOVERY_BACKFILL_MAX_ATTEMPTS: v({ parser: int(1, 100), default: 5, help: 'Attempts per catch-up slice.' }),
  RECOVERY_BACKFILL_BASE_BACKOFF_SECONDS: v({ parser: num(0), default: 2, help: 'Backoff base for catch-up slices (seconds).' }),
  // --- telegram
  TELEGRAM_API_ID: v({ aliases: ['TG_API_ID', 'API_ID'], parser: int(1), default: null as number | null, help: 'MTProto app id (my.telegram.org).' }),
  TELEGRAM_API_HASH: v({ aliases: ['TG_API_HASH', 'API_HASH'], parser: text, default: null as string | null, secret: true, help: 'MTProto app hash.' }),
  SESSION_STRING: v({
    aliases: ['TELEGRAM_SESSION_STRING', 'TG_SESSION_STRING', 'SESSION'],
    parser: text,
    default: null as string | null,
    secret: true,
    help: 'GramJS StringSession for the tail and backfill (create with `tutordex login`).',
  }),
  TG_SESSION: v({ aliases: ['TELEGRAM_SESSION_NAME'], parser: text, default: 'tutordex.session', help: 'Session file used when SESSION_STRING is unset.' }),
  SESSION_STRING_RECOVERY: v({
    aliases: ['TG_SESSION_STRING_RECOVERY'],
    parser: text,
    default: null as string | null,
    secret: true,
    help: 'Optional second session for the catch-up; without one (nor a TG_SESSION_RECOVERY file) the catch-up reads through the main session.',
  }),
  TG_SESSION_RECOVERY: v({
    parser: text,
    default: 'tutordex_recovery.session',
    help: 'Second-session file for the catch-up, used when it exists and SESSION_STRING_RECOVERY is unset.',
  }),
  COLLECTOR_WAIT_FOR_TELEGRAM_CREDS: v({
    parser: bool,
    default: false,
    help: 'Wait (log every minute) instead of exiting when Telegram credentials are missing.',
  }),
  // --- LLM
  LLM_API_URL: v({ parser: httpUrl, default: null as string | null, help: 'OpenAI-compatible endpoint (LM Studio, llama.cpp, vLLM, OpenAI).' }),
  LLM_MODEL_NAME: v({ parser: text, default: 'lfm2-8b-a1b', help: 'Model name sent to the endpoint.' }),
  LLM_API_KEY: v({ parser: text, default: null as string | null, secret: true, help: 'API key for the endpoint (optional for local servers).' }),
  LLM_TIMEOUT_SECONDS: v({ parser: num(1, 3600), default: 200, help: 'Per-request timeout.' }),
  LLM_MAX_TOKENS: v({ parser: int(16, 1_000_000), default: 6144, help: 'max_tokens per request.' }),
  LLM_SYSTEM_PROMPT_TEXT: v({ parser: text, default: null as string | null, help: 'System prompt text (wins over LLM_SYSTEM_PROMPT_FILE).' }),
  LLM_SYSTEM_PROMPT_FILE: v({ parser: text, default: null as string | null, help: 'System prompt file (wins over the bundled prompt).' }),
  LLM_INCLUDE_EXAMPLES: v({ parser: bool, default: false, help: 'Add few-shot examples to the prompt.' }),
  LLM_EXAMPLES_DIR: v({ parser: text, default: null as string | null, help: 'Folder of few-shot example files.' }),
  LLM_EXAMPLES_VARIANT: v({ parser: text, default: null as string | null, help: 'Sub-variant of the examples folder.' }),
  LLM_CIRCUIT_BREAKER_THRESHOLD: v({ parser: int(1, 1000), default: 5, help: 'Consecutive LLM failures that open the breaker.' }),
  LLM_CIRCUIT_BREAKER_TIMEOUT_SECONDS: v({ parser: num(1, 86400), default: 60, help: 'How long the breaker stays open before a probe.' }),
  // --- assignments
  SIDE_EFFECT_MAX_AGE_HOURS: v({ parser: num(0), default: 24, help: 'No broadcast or DM for a source post older than this (replays, backfills).' }),
  BUMP_MIN_SECONDS: v({
    aliases: ['SUPABASE_BUMP_MIN_SECONDS'],
    parser: int(0),
    default: 21600,
    help: 'A re-post counts as a bump only this long after the previous sighting.',
  }),
  FRESHNESS_GREEN_HOURS: v({ parser: num(0), default: 24, help: 'Freshness tier green below this source age (hours).' }),
  FRESHNESS_YELLOW_HOURS: v({ parser: num(0), default: 36, help: 'Freshness tier yellow below this source age (hours).' }),
  FRESHNESS_ORANGE_HOURS: v({ parser: num(0), default: 48, help: 'Freshness tier orange below this source age (hours); red above.' }),
  ASSIGNMENT_EXPIRE_HOURS: v({ parser: num(1), default: 168, help: 'An open assignment not seen in its source for this long becomes expired.' }),
  DUPLICATE_DETECTION_ENABLED: v({ parser: bool, default: true, help: 'Group the same assignment posted by different agencies (one primary per group).' }),
  DUPLICATE_MIN_SCORE: v({ parser: int(1, 100), default: 70, help: 'Duplicate score (0-100) from which two assignments are grouped.' }),
  // --- delivery
  TELEGRAM_BOT_TOKEN: v({
    aliases: ['GROUP_BOT_TOKEN', 'DM_BOT_TOKEN'],
    parser: text,
    default: null as string | null,
    secret: true,
    help: 'Bot API token for broadcasts and DMs.',
  }),
  TELEGRAM_BOT_API_URL: v({
    aliases: ['BOT_API_URL'],
    parser: httpUrl,
    default: null as string | null,
    help: 'Bot API root for a self-hosted Bot API server (default https://api.telegram.org).',
  }),
  BROADCAST_CHAT_ID: v({
    aliases: ['AGGREGATOR_CHANNEL_IDS', 'AGGREGATOR_CHANNEL_ID'],
    parser: chatList,
    default: [] as string[],
    help: 'Broadcast target chat(s): ids or @names, comma-separated or a JSON array.',
  }),
  DM_MAX_RECIPIENTS: v({ parser: int(0, 10000), default: 50, help: 'Most tutors DMed per assignment (fair rotation beyond that).' }),
  DELIVERY_SENDING_LEASE_SECONDS: v({
    parser: int(1, 86400),
    default: 90,
    help: 'A delivery left "sending" this long (its process died mid-call) is marked uncertain, never re-sent. At least twice TELEGRAM_BOT_TIMEOUT_SECONDS, so a call still in flight is never taken for a dead one.',
  }),
  TELEGRAM_BOT_TIMEOUT_SECONDS: v({
    parser: int(1, 120),
    default: 30,
    help: 'Longest wait for one Bot API call of the dispatcher (send, edit, delete); a send that times out is uncertain.',
  }),
  DELIVERY_MAX_ATTEMPTS: v({ parser: int(1, 100), default: 5, help: 'Attempts per broadcast/DM before it is recorded as failed.' }),
  DELIVERY_UNCERTAIN_RETRIES: v({
    parser: int(0, 10),
    default: 0,
    help: 'Re-sends of a broadcast/DM whose sendMessage may have reached Telegram without a definite answer (timeout, reset connection, 5xx). Each one risks a duplicate; 0 = at most once (the row becomes "uncertain" instead).',
  }),
  DM_QUIET_HOURS: v({
    parser: quietHours,
    default: '23:00-07:00',
    help: 'Singapore-time window (HH:MM-HH:MM, may wrap midnight) in which no DM is sent: a DM due then is held until the window ends. off = DMs at any hour. Broadcasts are not affected.',
  }),
  PUBLIC_BASE_URL: v({
    parser: publicBaseUrl,
    default: null as string | null,
    help: 'Address where tutors reach the web server (e.g. https://tutordex.example.com). Set: links in broadcasts and DMs go through <PUBLIC_BASE_URL>/r/<token>, which counts the click and redirects to the post.',
  }),
  // --- tutor bot
  TELEGRAM_WEBHOOK_URL: v({
    parser: httpUrl,
    default: null as string | null,
    help: 'Tutor bot: public https address Telegram posts updates to (set: webhook mode, served on TELEGRAM_WEBHOOK_PORT behind your TLS proxy; unset: long polling).',
  }),
  TELEGRAM_WEBHOOK_PORT: v({
    parser: int(0, 65535),
    default: 8081,
    help: 'Tutor bot, webhook mode: local port of the update listener (0.0.0.0; the path is the one of TELEGRAM_WEBHOOK_URL).',
  }),
  BOT_COMMAND_RATE_LIMIT: v({
    parser: int(1, 10000),
    default: 20,
    help: 'Tutor bot: commands and button presses per chat per minute (a burst of as many); beyond it one "slow down" reply, then silence.',
  }),
  FEEDBACK_FILLED_THRESHOLD: v({
    parser: int(1, 1000),
    default: 3,
    help: 'Distinct tutors whose "Already filled" taps close an assignment (its broadcasts are then deleted).',
  }),
  // --- web
  METRICS_PORT: v({
    parser: int(0, 65535),
    default: null as number | null,
    help: 'Serve the dashboard, /metrics and /health from worker, live and bot on this port (127.0.0.1).',
  }),
  DASHBOARD_TOKEN: v({ parser: text, default: null as string | null, secret: true, help: 'Required to bind the dashboard to anything but 127.0.0.1.' }),
  // --- process
  LOG_LEVEL: v({ parser: oneOf('trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'), default: 'info', help: 'Log level (JSON logs on stderr).' }),
  APP_ENV: v({ parser: text, default: 'dev', help: 'Label: dev, staging or prod.' }),
  // --- the seed's Supabase REST switches: recognised, not used (the database is always on)
  SUPABASE_URL: v({
    parser: text,
    default: null as string | null,
    help: 'Seed name (PostgREST URL). Not used: put the Postgres connection string in DATABASE_URL.',
  }),
  SUPABASE_URL_HOST: v({ parser: text, default: null as string | null, help: 'Seed name. Not used; see SUPABASE_URL.' }),
  SUPABASE_URL_DOCKER: v({ parser: text, default: null as string | null, help: 'Seed name. Not used; see SUPABASE_URL.' }),
  SUPABASE_SERVICE_ROLE_KEY: v({
    aliases: ['SUPABASE_KEY'],
    parser: text,
    default: null as string | null,
    secret: true,
    help: 'Seed name. Not used; see SUPABASE_URL.',
  }),
  SUPABASE_ENABLED: v({ parser: bool, default: null as boolean | null, help: 'Seed switch.', notNeeded: 'not needed: the database is always on' }),
  SUPABASE_RAW_ENABLED: v({ parser: bool, default: null as boolean | null, help: 'Seed switch.', notNeeded: 'not needed: raw messages are always stored' }),
} satisfies Record<string, VarSpec<unknown>>;

export type EnvName = keyof typeof ENV_VARS;
export type EnvValues = { [K in EnvName]: (typeof ENV_VARS)[K]['default'] | ReturnType<(typeof ENV_VARS)[K]['parser']['parse']> };

export interface EnvSource {
  /** process environment (wins) */
  env: Record<string, string | undefined>;
  /** `.env` file to merge under the environment; null = none */
  envFile?: string | null;
}

export interface LoadedEnv {
  values: EnvValues;
  /** Which variable (or alias) supplied each value; absent = default. */
  origin: Partial<Record<EnvName, string>>;
  notes: string[];
}

function readEnvFile(file: string): Record<string, string> {
  try {
    return parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch (err) {
    throw new ConfigError(`cannot read env file ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** The `.env` file to use: TUTORDEX_ENV_FILE, else `.env` in the working directory when it exists. */
export function defaultEnvFile(env: Record<string, string | undefined>, cwd = process.cwd()): string | null {
  const explicit = env.TUTORDEX_ENV_FILE?.trim();
  if (explicit) {
    if (!existsSync(explicit)) throw new ConfigError(`TUTORDEX_ENV_FILE: ${explicit} does not exist`);
    return explicit;
  }
  const local = path.join(cwd, '.env');
  return existsSync(local) ? local : null;
}

export function loadEnv(source: EnvSource): LoadedEnv {
  const fileVars = source.envFile ? readEnvFile(source.envFile) : {};
  // Names are matched case-insensitively, as the seed did; the real environment wins over the file.
  const merged = new Map<string, { value: string; key: string }>();
  for (const layer of [fileVars, source.env]) {
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined) merged.set(key.toUpperCase(), { value, key });
    }
  }
  const values: Record<string, unknown> = {};
  const origin: Partial<Record<EnvName, string>> = {};
  const notes: string[] = [];
  for (const [name, spec] of Object.entries(ENV_VARS) as [EnvName, VarSpec<unknown>][]) {
    let found: { value: string; key: string } | undefined;
    for (const candidate of [name, ...(spec.aliases ?? [])]) {
      const hit = merged.get(candidate);
      if (hit && hit.value.trim() !== '') {
        found = { value: hit.value.trim(), key: candidate };
        break;
      }
    }
    if (!found) {
      values[name] = spec.default;
      continue;
    }
    try {
      values[name] = spec.parser.parse(found.value);
    } catch (err) {
      const shown = spec.secret ? '' : `="${found.value.length > 80 ? `${found.value.slice(0, 77)}...` : found.value}"`;
      const detail = err instanceof ConfigError ? `: ${err.message}` : `; expected ${spec.parser.accepts}`;
      throw new ConfigError(`${found.key}${shown} is invalid${detail}`);
    }
    origin[name] = found.key;
    if (spec.notNeeded) notes.push(`${found.key} is ${spec.notNeeded}`);
  }
  return { values: values as EnvValues, origin, notes };
}

/** Markdown rows for the README's configuration table. */
export function envTableMarkdown(): string {
  const rows = ['| Variable (aliases) | Default | Meaning |', '|---|---|---|'];
  for (const [name, spec] of Object.entries(ENV_VARS) as [string, VarSpec<unknown>][]) {
    const names = [name, ...(spec.aliases ?? [])].map((n) => `\`${n}\``).join(', ');
    const def =
      spec.default === null ? '—' : Array.isArray(spec.default) ? (spec.default.length ? spec.default.join(',') : '—') : `\`${String(spec.default)}\``;
    const secret = spec.secret ? ' *(secret)*' : '';
    rows.push(`| ${names} | ${def} | ${spec.help}${secret} Accepts ${spec.parser.accepts}. |`);
  }
  return rows.join('\n');
}
