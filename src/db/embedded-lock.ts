import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.ts';

/**
 * One process at a time may use an embedded data directory (PGlite has no lock of its own: two processes
 * silently lose committed writes). Node has no lock the kernel drops when its holder dies, and a pid says
 * nothing once it is reused (node is PID 1 in every container start), so the lock is a heartbeat:
 *
 * - `tutordex-lock/<n>` files are generations; the highest one is the lock. Its holder (a random token, not a
 *   pid) touches it every HEARTBEAT_MS from a worker thread, so a long synchronous query cannot stall it.
 * - An opener that finds the highest generation held watches it: a heartbeat means "in use"; none for STALE_MS
 *   means its holder is dead (or stopped), and the opener creates generation n+1 with O_EXCL. Of openers racing
 *   for one stale generation exactly one can create n+1; a late one that creates a lower number than an
 *   existing file gives it up again. Generations only grow: release marks the file, never removes it.
 * - A holder whose heartbeat finds a higher generation was taken over while stopped: it exits at once.
 */
export const LOCK_DIR = 'tutordex-lock';
/** The lock file of versions before the heartbeat lock (a pid inside); removed once the new lock is held. */
const LEGACY_LOCK_FILE = 'tutordex.lock';
export const HEARTBEAT_MS = 1_000;
export const STALE_MS = 5_000;
/** However old a lock looks by our clock, watch at least this long (a holder's clock may be behind ours). */
const MIN_WATCH_MS = 2_500;
const POLL_MS = 100;
const MAX_ATTEMPTS = 5;
const RELEASED = 'released\n';

interface Owner {
  token: string;
  pid: number;
  host: string;
}

type Generation = { number: number; file: string };

/** Data directories (real paths) this process holds, with the token of its lock. */
const heldHere = new Map<string, string>();

function newestGeneration(lockDir: string): Generation | null {
  let newest = -1;
  for (const name of readdirSync(lockDir)) {
    if (/^\d+$/.test(name)) newest = Math.max(newest, Number(name));
  }
  return newest < 0 ? null : { number: newest, file: path.join(lockDir, String(newest)) };
}

type Seen = { state: 'gone' } | { state: 'released' } | { state: 'held'; owner: Owner | null; mtimeMs: number; text: string };

function look(file: string): Seen {
  try {
    const { mtimeMs } = statSync(file);
    const text = readFileSync(file, 'utf8');
    if (text === RELEASED) return { state: 'released' };
    let owner: Owner | null = null;
    try {
      owner = JSON.parse(text) as Owner;
    } catch {
      /* being written, or cut short by a crash: judged by its heartbeat like any other */
    }
    return { state: 'held', owner, mtimeMs, text };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'gone' };
    throw err;
  }
}

function inUse(dataDir: string, who: string): UserError {
  return new UserError(
    `the embedded database in ${dataDir} is already open in ${who}; only one process may use it (stop the other one, set another TUTORDEX_DATA_DIR, or share a real Postgres through DATABASE_URL)`,
  );
}

function describeOwner(owner: Owner | null): string {
  if (!owner) return 'another process';
  return owner.host === os.hostname() ? `process ${owner.pid}` : `process ${owner.pid} on ${owner.host}`;
}

/** 'free' when the generation is released or its holder is dead; 'changed' when it was replaced meanwhile. */
async function judge(dataDir: string, realDir: string, lockDir: string, generation: Generation): Promise<'free' | 'changed'> {
  const first = look(generation.file);
  if (first.state === 'gone') return 'changed';
  if (first.state === 'released') return 'free';
  if (first.owner && first.owner.token === heldHere.get(realDir)) throw inUse(dataDir, 'this process');
  const started = Date.now();
  const quietFor = Math.max(0, started - first.mtimeMs);
  const deadline = started + Math.min(STALE_MS, Math.max(MIN_WATCH_MS, STALE_MS - quietFor));
  while (Date.now() < deadline) {
    await sleep(POLL_MS);
    if (newestGeneration(lockDir)?.number !== generation.number) return 'changed';
    const now = look(generation.file);
    if (now.state === 'gone') return 'changed';
    if (now.state === 'released') return 'free';
    if (now.mtimeMs !== first.mtimeMs || now.text !== first.text) throw inUse(dataDir, describeOwner(now.owner ?? first.owner));
  }
  return 'free';
}

/** Create generation `number` as ours; false when another opener created it first. */
function claim(lockDir: string, number: number, owner: Owner): boolean {
  let fd: number;
  try {
    fd = openSync(path.join(lockDir, String(number)), 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(owner));
  } finally {
    closeSync(fd);
  }
  return true;
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}

// Plain CommonJS run in a worker thread: its own event loop keeps beating while the main thread runs WASM.
const HEARTBEAT_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { lockDir, file, generation, lost, intervalMs } = workerData;
const flag = new Int32Array(lost);
const timer = setInterval(() => {
  const now = new Date();
  try { fs.utimesSync(file, now, now); } catch {}
  let names = [];
  try { names = fs.readdirSync(lockDir); } catch {}
  const newer = names.find((name) => /^\\d+$/.test(name) && Number(name) > generation);
  if (newer !== undefined) {
    Atomics.store(flag, 0, 1);
    parentPort.postMessage(newer);
    clearInterval(timer);
  }
}, intervalMs);
`;

export interface EmbeddedLock {
  /** Stops the process if another one has taken the lock over; call before touching the data. */
  assertHeld(): void;
  release(): void;
}

function stopForLostLock(dataDir: string): never {
  writeSync(
    2,
    `tutordex: lost the lock on the embedded database in ${dataDir}: this process stopped answering for ${STALE_MS / 1000} s and another one took it over; exiting so that only one writes\n`,
  );
  process.exit(1);
}

export async function lockDataDir(dataDir: string): Promise<EmbeddedLock> {
  mkdirSync(dataDir, { recursive: true });
  const realDir = realpathSync(dataDir);
  const lockDir = path.join(realDir, LOCK_DIR);
  mkdirSync(lockDir, { recursive: true });
  const owner: Owner = { token: randomBytes(16).toString('hex'), pid: process.pid, host: os.hostname() };

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const newest = newestGeneration(lockDir);
    if (newest && (await judge(dataDir, realDir, lockDir, newest)) === 'changed') continue;
    const number = (newest?.number ?? 0) + 1;
    if (!claim(lockDir, number, owner)) continue;
    const mine = path.join(lockDir, String(number));
    if (newestGeneration(lockDir)?.number !== number) {
      removeQuietly(mine); // a late racer: someone took a newer generation while we were watching an old one
      continue;
    }
    return hold(dataDir, realDir, lockDir, number, owner.token);
  }
  throw new UserError(`cannot lock the embedded database in ${dataDir}: its lock changed hands ${MAX_ATTEMPTS} times while waiting; try again`);
}

function hold(dataDir: string, realDir: string, lockDir: string, number: number, token: string): EmbeddedLock {
  const mine = path.join(lockDir, String(number));
  heldHere.set(realDir, token);
  for (const name of readdirSync(lockDir)) {
    if (/^\d+$/.test(name) && Number(name) < number) removeQuietly(path.join(lockDir, name));
    else if (name.startsWith('.release-')) removeQuietly(path.join(lockDir, name)); // a holder died mid-release
  }
  removeQuietly(path.join(realDir, LEGACY_LOCK_FILE));

  const lost = new Int32Array(new SharedArrayBuffer(4));
  const heartbeat = new Worker(HEARTBEAT_SOURCE, {
    eval: true,
    execArgv: [],
    workerData: { lockDir, file: mine, generation: number, lost: lost.buffer, intervalMs: HEARTBEAT_MS },
  });
  heartbeat.unref();
  let released = false;
  heartbeat.on('message', () => {
    if (!released) stopForLostLock(dataDir);
  });
  heartbeat.on('error', (err) => {
    if (released) return;
    writeSync(2, `tutordex: the embedded database lock's heartbeat in ${dataDir} failed (${err.message}); exiting before the lock looks stale\n`);
    process.exit(1);
  });

  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    if (heldHere.get(realDir) === token) heldHere.delete(realDir);
    void heartbeat.terminate();
    if (Atomics.load(lost, 0) === 1) return;
    // replaced in one step, so a watcher sees either our owner record or "released", never half of one
    const marker = path.join(lockDir, `.release-${token}`);
    try {
      writeFileSync(marker, RELEASED);
      renameSync(marker, mine);
    } catch {
      removeQuietly(marker); // the lock stays until it looks stale
    }
  };
  process.on('exit', release);
  return {
    assertHeld() {
      if (!released && Atomics.load(lost, 0) === 1) stopForLostLock(dataDir);
    },
    release,
  };
}
