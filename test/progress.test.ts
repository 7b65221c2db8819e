import { describe, expect, it } from 'vitest';
import { createProgress } from '../src/cli/progress.ts';

const event = (scanned: number, total: number | null) => ({
  phase: 'enqueue' as const,
  channelLink: 't.me/alpha',
  scanned,
  written: scanned,
  total,
  at: new Date('2026-03-01T10:00:00Z'),
});

describe('progress display', () => {
  it('redraws one line with a bar, rate and ETA on a terminal', () => {
    let out = '';
    let clock = 0;
    const p = createProgress({ isTTY: true, columns: 200, write: (s: string) => (out += s) }, 5_000, () => clock);
    p.update(event(0, 1000));
    clock = 2_000;
    p.update(event(500, 1000));
    p.end();
    const frames = out.split('\r').filter(Boolean);
    expect(frames).toHaveLength(2);
    expect(frames[1]).toMatch(/^enqueue t\.me\/alpha {2}500 read {2}500 enqueued {2}250\/s {2}\[##########\.{10}\] 50% {2}ETA 2s {2}at 2026-03-01 10:00Z/);
    expect(out.endsWith('\n')).toBe(true);
  });

  it('prints a line at most every interval otherwise, and always the final count', () => {
    const lines: string[] = [];
    let clock = 0;
    const p = createProgress({ write: (s: string) => lines.push(s) }, 5_000, () => clock);
    for (let i = 1; i <= 10; i++) {
      clock = i * 1_000;
      p.update(event(i * 10, null));
    }
    p.end();
    expect(lines.map((l) => /(\d+) read/.exec(l)![1])).toEqual(['10', '60', '100']);
  });
});
