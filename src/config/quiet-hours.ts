/**
 * DM quiet hours: a daily window of Singapore time (Asia/Singapore is UTC+8 all year, no DST) in which no DM is
 * sent. `HH:MM-HH:MM`, the end exclusive; a window may wrap midnight (`23:00-07:00`). `off` disables it.
 */
export interface QuietHours {
  /** Minutes after Singapore midnight the window starts (inclusive). */
  startMinute: number;
  /** Minutes after Singapore midnight the window ends (exclusive). */
  endMinute: number;
}

const RE = /^([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)$/;
const OFF = new Set(['off', 'none', 'false', '0', 'no']);

const pad = (n: number) => String(n).padStart(2, '0');
const hhmm = (m: number) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;

/** Parse `HH:MM-HH:MM` or `off`; throws on anything else (an empty window such as 07:00-07:00 included). */
export function parseQuietHours(raw: string): QuietHours | null {
  const v = raw.trim().toLowerCase();
  if (OFF.has(v)) return null;
  const m = RE.exec(v);
  if (!m) throw new Error(`quiet hours must look like 23:00-07:00 or be off: ${raw}`);
  const startMinute = Number(m[1]) * 60 + Number(m[2]);
  const endMinute = Number(m[3]) * 60 + Number(m[4]);
  if (startMinute === endMinute) throw new Error(`quiet hours start and end are the same: ${raw}`);
  return { startMinute, endMinute };
}

/** The canonical text of a window (`23:00-07:00`, or `off`). */
export function formatQuietHours(q: QuietHours | null): string {
  return q ? `${hhmm(q.startMinute)}-${hhmm(q.endMinute)}` : 'off';
}
