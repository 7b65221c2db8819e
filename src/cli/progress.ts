import type { ProgressEvent } from '../collector/index.ts';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

export interface ProgressRenderer {
  update(event: ProgressEvent): void;
  /** finish the current line */
  end(): void;
}

/**
 * Progress of long commands on stderr: a redrawn bar on a terminal (messages, rate, ETA when the total is known),
 * one line every `intervalMs` otherwise (logs, CI).
 */
export function createProgress(
  stream: { isTTY?: boolean; write(s: string): unknown; columns?: number },
  intervalMs = 5_000,
  now = () => Date.now(),
): ProgressRenderer {
  const started = new Map<string, number>();
  let lastLine = Number.NEGATIVE_INFINITY; // the first event is shown at once
  let drawn = false;
  /** the newest event not yet printed (line mode), shown by end() so the final count is always visible */
  let unprinted: string | null = null;
  const render = (e: ProgressEvent): string => {
    const key = `${e.phase}:${e.channelLink}`;
    const t0 = started.get(key) ?? now();
    started.set(key, t0);
    const elapsed = Math.max(0.001, (now() - t0) / 1000);
    const rate = e.scanned / elapsed;
    const parts = [
      `${e.phase} ${e.channelLink}`,
      `${fmt(e.scanned)} read`,
      `${fmt(e.written)} ${e.phase === 'enqueue' ? 'enqueued' : 'written'}`,
      `${fmt(rate)}/s`,
    ];
    if (e.total !== null && e.total > 0) {
      const share = Math.min(1, e.scanned / e.total);
      const width = 20;
      parts.push(
        `[${'#'.repeat(Math.round(share * width)).padEnd(width, '.')}] ${Math.round(share * 100)}%`,
        `ETA ${duration((e.total - e.scanned) / Math.max(rate, 1e-9))}`,
      );
    }
    if (e.at) parts.push(`at ${e.at.toISOString().slice(0, 16).replace('T', ' ')}Z`);
    return parts.join('  ');
  };
  return {
    update(e) {
      const line = render(e);
      if (stream.isTTY) {
        const width = stream.columns ?? 120;
        stream.write(`\r${line.slice(0, width - 1).padEnd(Math.min(width - 1, line.length + 2))}`);
        drawn = true;
      } else if (now() - lastLine >= intervalMs || (e.total !== null && e.scanned >= e.total)) {
        lastLine = now();
        stream.write(`${line}\n`);
        unprinted = null;
      } else {
        if (unprinted !== null && !unprinted.startsWith(`${e.phase} ${e.channelLink} `)) stream.write(`${unprinted}\n`);
        unprinted = line;
      }
    },
    end() {
      if (unprinted !== null) stream.write(`${unprinted}\n`);
      unprinted = null;
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
