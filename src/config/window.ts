import { ConfigError } from '../errors.ts';

export interface TimeWindow {
  /** inclusive */
  since: Date | null;
  /** exclusive */
  until: Date | null;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Parse an ISO-8601 instant. A value without a timezone is refused: it would mean different things on different machines. */
export function parseInstant(value: string, label: string): Date {
  const text = value.trim();
  const m = ISO.exec(text);
  if (!m) throw new ConfigError(`${label}: "${value}" is not an ISO-8601 date-time (example: 2026-01-31T08:00:00Z)`);
  if (!m[8]) {
    throw new ConfigError(`${label}: "${value}" has no timezone; add Z (UTC) or an offset such as +08:00`);
  }
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = ''] = m;
  const offset = m[8].toUpperCase() === 'Z' ? 'Z' : m[8].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac.slice(0, 4)}${offset}`);
  const check = new Date(`${y}-${mo}-${d}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    throw new ConfigError(`${label}: "${value}" is not a valid date-time`);
  }
  return date;
}

/** `since` inclusive, `until` exclusive; either may be absent. */
export function parseWindow(input: { since?: string | null; until?: string | null }): TimeWindow {
  const since = input.since != null && input.since.trim() !== '' ? parseInstant(input.since, '--since') : null;
  const until = input.until != null && input.until.trim() !== '' ? parseInstant(input.until, '--until') : null;
  if (since && until && since.getTime() >= until.getTime()) {
    throw new ConfigError(`--since (${since.toISOString()}) must be earlier than --until (${until.toISOString()})`);
  }
  return { since, until };
}
