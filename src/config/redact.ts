import { ENV_VARS, type EnvName } from './env.ts';
import type { Config } from './config.ts';

const MASK = '[redacted]';

/** A Telegram bot token (`<bot id>:<35 characters>`), wherever it comes from: masked even when not configured. */
const BOT_TOKEN = /(?<![0-9])\d{5,16}:[A-Za-z0-9_-]{30,}/g;

/**
 * Replace every occurrence of a secret in `text` (longest first, so a password inside a URL is caught too), and
 * anything shaped like a bot token.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join(MASK);
  }
  return out.replace(BOT_TOKEN, MASK);
}

/** A connection string with its password masked. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = 'redacted';
    return url.toString().replace(':redacted@', `:${MASK}@`);
  } catch {
    return MASK;
  }
}

export interface EffectiveSetting {
  name: EnvName;
  value: string;
  source: string;
}

/** Every variable with its effective value (secrets redacted) and where it came from. */
export function effectiveSettings(config: Config): EffectiveSetting[] {
  const rows: EffectiveSetting[] = [];
  for (const [name, spec] of Object.entries(ENV_VARS) as [EnvName, (typeof ENV_VARS)[EnvName]][]) {
    const value = config.env.values[name] as unknown;
    const from = config.env.origin[name];
    let shown: string;
    if (value === null || value === undefined) shown = '';
    else if ('secret' in spec && spec.secret) shown = typeof value === 'string' && /^postgres(ql)?:/.test(value) ? redactUrl(value) : MASK;
    else if (Array.isArray(value)) shown = value.join(',');
    else shown = String(value);
    rows.push({ name, value: shown, source: from ? (from === name ? 'env' : `env (${from})`) : 'default' });
  }
  return rows;
}
