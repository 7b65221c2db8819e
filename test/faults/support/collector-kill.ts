import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Database } from '../../../src/db/index.ts';
import { channel } from '../../support/collector.ts';
import type { FaultFeed, FaultPost } from './collector-child.ts';

const CHILD = fileURLToPath(new URL('./collector-child.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export const FAULT_VERSION = 'fault_collector_v1';

/** A scratch directory for feeds and catch-up state files (removed by `cleanup`). */
export function scratch(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-collector-kill-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Channels of `perChannel` posts, ids 1..n, one minute apart from `first`; every `editEvery`-th post has an edit. */
export function buildFeed(prefix: string, channels: number, perChannel: number, first: Date, editEvery = 7): FaultFeed {
  return {
    channels: Array.from({ length: channels }, (_, c) => ({
      link: `t.me/${prefix}${c}`,
      // distinct per channel and per round: one id under two usernames is one renamed channel (merged on ingest)
      channelId: channel(`${prefix}${c}`).channelId,
      title: `${prefix}${c}`,
      posts: Array.from({ length: perChannel }, (_, i): FaultPost => {
        const id = i + 1;
        const date = new Date(first.getTime() + i * 60_000);
        const post: FaultPost = { id, date: date.toISOString(), text: `${prefix}${c} tuition assignment #${id}: Sec 3 maths, $45/h` };
        if (id % editEvery === 0) {
          post.editedText = `${post.text} (edited: TAKEN)`;
          post.editDate = new Date(date.getTime() + 30_000).toISOString();
        }
        return post;
      }),
    })),
  };
}

export function writeFeed(dir: string, name: string, feed: FaultFeed): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(feed));
  return file;
}

export interface Child {
  proc: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

export function spawnCollector(feedFile: string, command: 'backfill' | 'live', flags: string[], env: Record<string, string>, cwd: string): Child {
  const proc = spawn(process.execPath, ['--import', TSX, CHILD, feedFile, command, ...flags], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return { proc, exited, output: () => out.slice(-4000) };
}

export async function rawCount(db: Database, channels: string[]): Promise<number> {
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from telegram_messages_raw where channel_link = any($1::text[])', [channels]);
  return row!.n;
}

/**
 * Start the collector, wait until `target` raw rows of these channels exist, then SIGKILL it. Returns the raw count
 * at the moment of the kill (null when the child finished before reaching the target).
 */
export async function killAt(child: Child, db: Database, channels: string[], target: number): Promise<number | null> {
  let finished = false;
  void child.exited.then(() => (finished = true));
  for (;;) {
    if (finished) return null;
    const n = await rawCount(db, channels);
    if (n >= target) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  child.proc.kill('SIGKILL');
  const { signal } = await child.exited;
  if (signal !== 'SIGKILL') return null;
  return rawCount(db, channels);
}

export async function runToEnd(child: Child): Promise<void> {
  const { code, signal } = await child.exited;
  if (code !== 0) throw new Error(`collector child exited with code ${code} signal ${signal}:\n${child.output()}`);
}
