import type { QuietHours } from '../config/index.ts';

/** Singapore time: UTC+8 all year (no daylight saving), so plain arithmetic is exact. */
const SGT_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

/** Milliseconds since the Singapore midnight that started the day of `now`. */
const sinceSgtMidnight = (now: Date) => (((now.getTime() + SGT_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS;

/** The Singapore calendar day of an instant, `YYYY-MM-DD`. */
export function sgtDay(now: Date): string {
  return new Date(now.getTime() + SGT_OFFSET_MS).toISOString().slice(0, 10);
}

/** True when `now` falls inside the quiet-hours window (start inclusive, end exclusive). */
export function inQuietHours(now: Date, q: QuietHours | null): boolean {
  if (!q) return false;
  const minute = Math.floor(sinceSgtMidnight(now) / 60_000);
  return q.startMinute < q.endMinute ? minute >= q.startMinute && minute < q.endMinute : minute >= q.startMinute || minute < q.endMinute;
}

/** The first instant after `now` at which the window ends (the next HH:MM of its end, Singapore time). */
export function quietHoursEnd(now: Date, q: QuietHours): Date {
  const midnight = now.getTime() - sinceSgtMidnight(now);
  let end = midnight + q.endMinute * 60_000;
  if (end <= now.getTime()) end += DAY_MS;
  return new Date(end);
}
