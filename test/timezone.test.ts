import { describe, expect, it } from 'vitest';
import { parseTimeZone, parseWallTime } from '../src/config/index.ts';
import { ConfigError } from '../src/errors.ts';

describe('parseTimeZone (import --timezone, issue 15 #9)', () => {
  const wall = (text: string) => parseWallTime(text)!;

  it('accepts IANA names (canonicalised) and ±HH:MM offsets', () => {
    expect(parseTimeZone('Asia/Singapore').name).toBe('Asia/Singapore');
    expect(parseTimeZone(' asia/singapore ').name).toBe('Asia/Singapore');
    expect(parseTimeZone('UTC').toUtc(wall('2021-03-04T18:22:10'))).toEqual(new Date('2021-03-04T18:22:10Z'));
    expect(parseTimeZone('+05:45').toUtc(wall('2021-03-04T18:22:10'))).toEqual(new Date('2021-03-04T12:37:10Z'));
    expect(parseTimeZone('-0330').name).toBe('-03:30');
    expect(parseTimeZone('+14:00').toUtc(wall('2021-01-01T00:00:00'))).toEqual(new Date('2020-12-31T10:00:00Z'));
  });

  it('America/New_York across both changes of 2021 (14 March, 7 November at 02:00 local)', () => {
    const ny = parseTimeZone('America/New_York');
    const utc = (text: string) => ny.toUtc(wall(text)).toISOString();
    expect(utc('2021-03-14T01:59:59')).toBe('2021-03-14T06:59:59.000Z'); // EST
    expect(utc('2021-03-14T03:00:00')).toBe('2021-03-14T07:00:00.000Z'); // EDT
    expect(utc('2021-11-07T01:30:00')).toBe('2021-11-07T05:30:00.000Z'); // shown twice: the first (EDT)
    expect(utc('2021-11-07T02:30:00')).toBe('2021-11-07T07:30:00.000Z'); // EST
    expect(utc('2021-12-31T23:59:59')).toBe('2022-01-01T04:59:59.000Z');
  });

  it('anything else is a one-line ConfigError (exit 2) naming the flag and the value', () => {
    for (const bad of ['Mars/Base', '', 'Singapore Time', '08:00', '+8', '+15:00', '+08:60', 'GMT+8:00']) {
      expect(() => parseTimeZone(bad), bad).toThrow(ConfigError);
      expect(() => parseTimeZone(bad), bad).toThrow(new RegExp(`^--timezone: "${bad.replace(/[+]/g, '\\+')}" is not a (time zone|UTC offset)`));
    }
  });

  it('parseWallTime: only a real date and time, without an offset', () => {
    expect(parseWallTime('2024-02-29T23:59:59')).toEqual({ year: 2024, month: 2, day: 29, hour: 23, minute: 59, second: 59 });
    for (const bad of ['2023-02-29T10:00:00', '2021-03-04T24:00:00', '2021-03-04T18:22', '2021-03-04T18:22:10Z', '0021-03-04T18:22:10']) {
      expect(parseWallTime(bad), bad).toBeNull();
    }
  });
});
