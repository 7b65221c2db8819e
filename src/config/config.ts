import path from 'node:path';
import { ConfigError } from '../errors.ts';
import { defaultEnvFile, ENV_VARS, loadEnv, type EnvName, type EnvValues } from './env.ts';
import { parseQuietHours, type QuietHours } from './quiet-hours.ts';

export type DatabaseTarget = { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; url: string; source: 'DATABASE_URL' | 'SUPABASE_DB_URL' };

/** Configuration resolved once at the edge and passed down; nothing below `src/config` reads `process.env`. */
export interface Config {
  database: DatabaseTarget;
  pipelineVersion: string;
  schemaVersion: string;
  channels: string[];
  extractionQueueEnabled: boolean;
  extractionMode: 'llm' | 'rules';
  worker: {
    broadcast: boolean;
    dms: boolean;
    oneshot: boolean;
    maxJobs: number;
    batchSize: number;
    concurrency: number;
    idleSeconds: number;
    maxAttempts: number;
    backoffBaseSeconds: number;
    backoffMaxSeconds: number;
    staleProcessingSeconds: number;
    staleRequeueLimit: number;
  };
  recovery: {
    enabled: boolean;
    checkIntervalSeconds: number;
    chunkHours: number;
    overlapMinutes: number;
    /** tail: how often to read each channel above its newest stored post (0 = only after reconnects) */
    gapCheckMinutes: number;
    queueLowWatermark: number;
    maxAttempts: number;
    baseBackoffSeconds: number;
  };
  telegram: {
    apiId: number | null;
    apiHash: string | null;
    sessionString: string | null;
    sessionFile: string;
    recoverySessionString: string | null;
    recoverySessionFile: string;
    waitForCredentials: boolean;
  };
  tutorcity: { enabled: boolean; apiUrl: string; limit: number; pollSeconds: number; timeoutSeconds: number };
  llm: {
    apiUrl: string | null;
    model: string;
    apiKey: string | null;
    timeoutSeconds: number;
    maxTokens: number;
    systemPromptText: string | null;
    systemPromptFile: string | null;
    includeExamples: boolean;
    examplesDir: string | null;
    examplesVariant: string | null;
    breakerThreshold: number;
    breakerTimeoutSeconds: number;
  };
  assignments: {
    sideEffectMaxAgeHours: number;
    bumpMinSeconds: number;
    freshness: { greenHours: number; yellowHours: number; orangeHours: number; expireHours: number };
    duplicates: { enabled: boolean; minScore: number };
  };
  delivery: {
    botToken: string | null;
    botApiUrl: string | null;
    broadcastChatIds: string[];
    dmMaxRecipients: number;
    maxAttempts: number;
    /** DELIVERY_UNCERTAIN_RETRIES: re-sends after a send that may have been delivered (0 = at most once). */
    uncertainRetries: number;
    sendingLeaseSeconds: number;
    /** TELEGRAM_BOT_TIMEOUT_SECONDS: per-call timeout of the dispatcher's Bot API client. */
    botTimeoutSeconds: number;
    /** DM_QUIET_HOURS (Singapore time); null = off. */
    dmQuietHours: QuietHours | null;
    /** PUBLIC_BASE_URL without a trailing slash; null = links point straight at the post (no click tracking). */
    publicBaseUrl: string | null;
  };
  /** The tutor-facing bot (issue 9); it uses delivery.botToken / botApiUrl. */
  bot: {
    /** TELEGRAM_WEBHOOK_URL; null = long polling. */
    webhookUrl: string | null;
    webhookPort: number;
    commandsPerMinute: number;
    feedbackFilledThreshold: number;
  };
  web: { metricsPort: number | null; dashboardToken: string | null };
  logLevel: EnvValues['LOG_LEVEL'];
  appEnv: string;
  /** Every secret value in this configuration, for scrubbing logs and errors. */
  secrets: string[];
  /** Remarks for `tutordex config` (e.g. seed switches that are no longer needed). */
  notes: string[];
  /** The raw parsed variables and where each came from. */
  env: { values: EnvValues; origin: Partial<Record<EnvName, string>>; envFile: string | null };
}

export interface LoadConfigOptions {
  env?: Record<string, string | undefined>;
  /** `.env` file; undefined = TUTORDEX_ENV_FILE or `./.env` when present; null = none */
  envFile?: string | null;
  cwd?: string;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const envFile = options.envFile === undefined ? defaultEnvFile(env, cwd) : options.envFile;
  const { values: e, origin, notes } = loadEnv({ env, envFile });

  let database: DatabaseTarget;
  if (e.DATABASE_URL) database = { kind: 'postgres', url: e.DATABASE_URL, source: 'DATABASE_URL' };
  else if (e.SUPABASE_DB_URL) database = { kind: 'postgres', url: e.SUPABASE_DB_URL, source: 'SUPABASE_DB_URL' };
  else {
    const supabase = (['SUPABASE_URL', 'SUPABASE_URL_HOST', 'SUPABASE_URL_DOCKER', 'SUPABASE_SERVICE_ROLE_KEY'] as const).find((k) => e[k]);
    if (supabase) {
      throw new ConfigError(
        `${origin[supabase] ?? supabase} is set but DATABASE_URL is not: TutorDex talks to Postgres directly; put your Supabase project's Postgres connection string (Project Settings → Database) in DATABASE_URL`,
      );
    }
    database = { kind: 'pglite', dataDir: path.resolve(cwd, e.TUTORDEX_DATA_DIR) };
  }

  if (e.DELIVERY_SENDING_LEASE_SECONDS < 2 * e.TELEGRAM_BOT_TIMEOUT_SECONDS) {
    throw new ConfigError(
      `DELIVERY_SENDING_LEASE_SECONDS (${e.DELIVERY_SENDING_LEASE_SECONDS}) must be at least twice TELEGRAM_BOT_TIMEOUT_SECONDS (${e.TELEGRAM_BOT_TIMEOUT_SECONDS}): a send still in flight would be taken for one whose process died`,
    );
  }

  const secrets: string[] = [];
  for (const [name, spec] of Object.entries(ENV_VARS)) {
    const value = e[name as EnvName];
    if ('secret' in spec && spec.secret && typeof value === 'string' && value.length > 0) {
      secrets.push(value);
      if (/^postgres(ql)?:/.test(value)) {
        const password = new URL(value).password;
        if (password) secrets.push(password, decodeURIComponent(password));
      }
    }
  }

  return {
    database,
    pipelineVersion: e.EXTRACTION_PIPELINE_VERSION,
    schemaVersion: e.SCHEMA_VERSION,
    channels: e.CHANNEL_LIST,
    extractionQueueEnabled: e.EXTRACTION_QUEUE_ENABLED,
    extractionMode: e.EXTRACTION_MODE ?? (e.LLM_API_URL ? 'llm' : 'rules'),
    worker: {
      broadcast: e.EXTRACTION_WORKER_BROADCAST,
      dms: e.EXTRACTION_WORKER_DMS,
      oneshot: e.EXTRACTION_WORKER_ONESHOT,
      maxJobs: e.EXTRACTION_WORKER_MAX_JOBS,
      batchSize: e.EXTRACTION_WORKER_BATCH_SIZE,
      concurrency: e.EXTRACTION_WORKER_CONCURRENCY,
      idleSeconds: e.EXTRACTION_WORKER_IDLE_S,
      maxAttempts: e.EXTRACTION_MAX_ATTEMPTS,
      backoffBaseSeconds: e.EXTRACTION_BACKOFF_BASE_S,
      backoffMaxSeconds: e.EXTRACTION_BACKOFF_MAX_S,
      staleProcessingSeconds: e.EXTRACTION_STALE_PROCESSING_SECONDS,
      staleRequeueLimit: e.EXTRACTION_STALE_REQUEUE_LIMIT,
    },
    recovery: {
      enabled: e.RECOVERY_CATCHUP_ENABLED,
      checkIntervalSeconds: e.RECOVERY_CATCHUP_CHECK_INTERVAL_SECONDS,
      chunkHours: e.RECOVERY_CATCHUP_CHUNK_HOURS,
      overlapMinutes: e.RECOVERY_CATCHUP_OVERLAP_MINUTES,
      gapCheckMinutes: e.RECOVERY_GAP_CHECK_MINUTES,
      queueLowWatermark: e.RECOVERY_CATCHUP_QUEUE_LOW_WATERMARK,
      maxAttempts: e.RECOVERY_BACKFILL_MAX_ATTEMPTS,
      baseBackoffSeconds: e.RECOVERY_BACKFILL_BASE_BACKOFF_SECONDS,
    },
    telegram: {
      apiId: e.TELEGRAM_API_ID,
      apiHash: e.TELEGRAM_API_HASH,
      sessionString: e.SESSION_STRING,
      sessionFile: e.TG_SESSION,
      recoverySessionString: e.SESSION_STRING_RECOVERY,
      recoverySessionFile: e.TG_SESSION_RECOVERY,
      waitForCredentials: e.COLLECTOR_WAIT_FOR_TELEGRAM_CREDS,
    },
    tutorcity: {
      enabled: e.TUTORCITY_ENABLED,
      apiUrl: e.TUTORCITY_API_URL,
      limit: e.TUTORCITY_LIMIT,
      pollSeconds: e.TUTORCITY_POLL_SECONDS,
      timeoutSeconds: e.TUTORCITY_TIMEOUT_SECONDS,
    },
    llm: {
      apiUrl: e.LLM_API_URL,
      model: e.LLM_MODEL_NAME,
      apiKey: e.LLM_API_KEY,
      timeoutSeconds: e.LLM_TIMEOUT_SECONDS,
      maxTokens: e.LLM_MAX_TOKENS,
      systemPromptText: e.LLM_SYSTEM_PROMPT_TEXT,
      systemPromptFile: e.LLM_SYSTEM_PROMPT_FILE,
      includeExamples: e.LLM_INCLUDE_EXAMPLES,
      examplesDir: e.LLM_EXAMPLES_DIR,
      examplesVariant: e.LLM_EXAMPLES_VARIANT,
      breakerThreshold: e.LLM_CIRCUIT_BREAKER_THRESHOLD,
      breakerTimeoutSeconds: e.LLM_CIRCUIT_BREAKER_TIMEOUT_SECONDS,
    },
    assignments: {
      sideEffectMaxAgeHours: e.SIDE_EFFECT_MAX_AGE_HOURS,
      bumpMinSeconds: e.BUMP_MIN_SECONDS,
      freshness: {
        greenHours: e.FRESHNESS_GREEN_HOURS,
        yellowHours: e.FRESHNESS_YELLOW_HOURS,
        orangeHours: e.FRESHNESS_ORANGE_HOURS,
        expireHours: e.ASSIGNMENT_EXPIRE_HOURS,
      },
      duplicates: { enabled: e.DUPLICATE_DETECTION_ENABLED, minScore: e.DUPLICATE_MIN_SCORE },
    },
    delivery: {
      botToken: e.TELEGRAM_BOT_TOKEN,
      botApiUrl: e.TELEGRAM_BOT_API_URL,
      broadcastChatIds: e.BROADCAST_CHAT_ID,
      dmMaxRecipients: e.DM_MAX_RECIPIENTS,
      maxAttempts: e.DELIVERY_MAX_ATTEMPTS,
      uncertainRetries: e.DELIVERY_UNCERTAIN_RETRIES,
      sendingLeaseSeconds: e.DELIVERY_SENDING_LEASE_SECONDS,
      botTimeoutSeconds: e.TELEGRAM_BOT_TIMEOUT_SECONDS,
      dmQuietHours: parseQuietHours(e.DM_QUIET_HOURS),
      publicBaseUrl: e.PUBLIC_BASE_URL,
    },
    bot: {
      webhookUrl: e.TELEGRAM_WEBHOOK_URL,
      webhookPort: e.TELEGRAM_WEBHOOK_PORT,
      commandsPerMinute: e.BOT_COMMAND_RATE_LIMIT,
      feedbackFilledThreshold: e.FEEDBACK_FILLED_THRESHOLD,
    },
    web: { metricsPort: e.METRICS_PORT, dashboardToken: e.DASHBOARD_TOKEN },
    logLevel: e.LOG_LEVEL,
    appEnv: e.APP_ENV,
    secrets,
    notes,
    env: { values: e, origin, envFile },
  };
}
