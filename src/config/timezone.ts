import { ConfigError } from '../errors.ts';

/**
 * A time zone for reading wall-clock times that carry no offset (old Telegram Desktop exports write the exporting
 * computer's local time and nothing else): an IANA zone (daylight saving time included, via Intl) or a fixed
 * `±HH:MM` offset.
 */
export interface TimeZone {
  /** the canonical name (`Asia/Singapore`, `+08:00`) */
  readonly name: string;
  /** the UTC instant a wall-clock time in this zone stands for */
  toUtc(wall: WallTime): Date;
}

export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const OFFSET = /^([+-])(\d{2}):?(\d{2})$/;

/** `Asia/Singapore`, `Europe/London`, `UTC`, `+08:00`, `-03:30` (also `+0800`); throws ConfigError naming the flag. */
export function parseTimeZone(input: string, flag = '--timezone'): TimeZone {
  const text = input.trim();
  const offset = OFFSET.exec(text);
  if (offset) {
    const [, sign, hh, mm] = offset;
    const minutes = Number(hh) * 60 + Number(mm);
    if (Number(hh) > 14 || Number(mm) > 59 || minutes > 14 * 60) {
      throw new ConfigError(`${flag}: "${input}" is not a UTC offset (hours -14 to +14, minutes 00 to 59)`);
    }
    return fixedOffset((sign === '-' ? -1 : 1) * minutes, `${sign}${hh}:${mm}`);
  }
  let format: Intl.DateTimeFormat;
  try {
    if (text === '') throw new RangeError('empty');
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: text,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new ConfigError(`${flag}: "${input}" is not a time zone (expected an IANA name such as Asia/Singapore, or an offset such as +08:00)`);
  }
  return ianaZone(format);
}

const wallMs = (w: WallTime) => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);

function fixedOffset(minutes: number, name: string): TimeZone {
  return { name, toUtc: (wall) => new Date(wallMs(wall) - minutes * 60_000) };
}

const HOUR = 3_600_000;

function ianaZone(format: Intl.DateTimeFormat): TimeZone {
  /** the zone's offset from UTC at an instant, in ms (wall clock minus UTC) */
  const offsetAt = (instant: number): number => {
    const part: Record<string, number> = {};
    for (const p of format.formatToParts(new Date(instant))) if (p.type !== 'literal') part[p.type] = Number(p.value);
    const wall = Date.UTC(part.year!, part.month! - 1, part.day!, part.hour!, part.minute!, part.second!);
    return wall - Math.floor(instant / 1000) * 1000;
  };
  return {
    name: format.resolvedOptions().timeZone,
    toUtc(wall) {
      const local = wallMs(wall);
      // The offsets in force a day either side cover every transition near this time (none is closer than that).
      const before = offsetAt(local - 24 * HOUR);
      const after = offsetAt(local + 24 * HOUR);
      const fits = [before, after].map((o) => local - o).filter((t) => offsetAt(t) === local - t);
      // A repeated hour (clocks set back) fits twice: the first of the two is taken. A skipped hour (clocks set
      // forward) fits never – no clock showed it – and is read with the offset before the change.
      return new Date(fits.length > 0 ? Math.min(...fits) : local - before);
    },
  };
}

const WALL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

/** `2021-03-04T18:22:10` (no offset) → its parts; null when it is not such a time or not a real date. */
export function parseWallTime(text: string): WallTime | null {
  const m = WALL.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const check = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const real =
    check.getUTCFullYear() === year &&
    check.getUTCMonth() === month - 1 &&
    check.getUTCDate() === day &&
    check.getUTCHours() === hour &&
    check.getUTCMinutes() === minute &&
    check.getUTCSeconds() === second;
  return real ? { year, month, day, hour, minute, second } : null;
}
