import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { lockDataDir } from '../src/db/embedded-lock.ts';
import { openPglite } from '../src/db/index.ts';
import { UserError } from '../src/errors.ts';

const HOLDER = path.resolve('test/support/embedded-db-holder.ts');
/**
 * Opening over a stale lock (about 5 s of no heartbeat, plus PGlite's own start, slow on a loaded machine) must
 * take seconds, so a restart loop recovers; never minutes, never forever.
 */
const TAKEOVER_BOUND_MS = 15_000;
/** A live holder is recognised by its heartbeat well before its lock could look stale. */
const REFUSAL_BOUND_MS = 4_000;

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

function scratchDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tutordex-lock-'));
  tmpDirs.push(dir);
  return path.join(dir, 'db');
}

function inUseMessage(dir: string, pid: number | 'this process'): RegExp {
  const escapedDir = dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const who = pid === 'this process' ? 'this process' : `process ${pid}`;
  return new RegExp(`^the embedded database in ${escapedDir} is already open in ${who}; only one process may use it [^\\n]*$`);
}

// As root a new pid namespace needs no user namespace; otherwise map ourselves to root in one.
const NAMESPACE_FLAGS = ['--pid', '--fork', '--kill-child', ...(process.getuid?.() === 0 ? [] : ['--map-root-user'])];
const pidNamespaces = spawnSync('unshare', [...NAMESPACE_FLAGS, 'true'], { stdio: 'ignore' }).status === 0;

interface Holder {
  /** The pid the holder sees for itself (1 inside its own pid namespace, like node in a container). */
  pid: number;
  /** The pid to signal from here. */
  hostPid: number;
  send(command: string): void;
  next(timeoutMs?: number): Promise<string>;
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

const holders: Holder[] = [];
afterEach(async () => {
  for (const h of holders.splice(0)) {
    process.kill(h.hostPid, 'SIGKILL');
    await h.closed;
  }
});

async function startHolder(dataDir: string, options: { ownPidNamespace?: boolean } = {}): Promise<Holder> {
  const node = [process.execPath, '--import', 'tsx', HOLDER, dataDir];
  const [cmd, ...args] = options.ownPidNamespace ? ['unshare', ...NAMESPACE_FLAGS, ...node] : node;
  const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const waiter = waiting.shift();
    if (waiter) waiter(line);
    else lines.push(line);
  });
  const next = (timeoutMs = 30_000) =>
    lines.length > 0
      ? Promise.resolve(lines.shift()!)
      : new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`holder said nothing for ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
          waiting.push((line) => {
            clearTimeout(timer);
            resolve(line);
          });
        });
  const holder: Holder = { pid: 0, hostPid: child.pid!, send: (c) => child.stdin.write(`${c}\n`), next, closed };
  holders.push(holder);
  const ready = await next();
  expect(ready).toMatch(/^ready \d+$/);
  holder.pid = Number(ready.split(' ')[1]);
  return holder;
}

async function openIn(holder: Holder): Promise<string> {
  holder.send('open');
  return holder.next();
}

/** Kill -9 (a container's unclean stop) and wait until the process and everything it held is gone. */
async function killHard(holder: Holder): Promise<void> {
  process.kill(holder.hostPid, 'SIGKILL');
  expect((await holder.closed).signal).toBe('SIGKILL');
  holders.splice(holders.indexOf(holder), 1);
}

/**
 * Rewrite the lock a dead holder left as if process `pid` had left it (its times kept): what a container's
 * node finds after an unclean stop, when the dead holder was PID 1 and so is the new one.
 */
function recordLockAsLeftBy(dataDir: string, deadPid: number, pid: number): void {
  const files: string[] = [];
  const visit = (p: string) =>
    statSync(p).isDirectory()
      ? readdirSync(p).forEach((n) => {
          visit(path.join(p, n));
        })
      : files.push(p);
  readdirSync(dataDir)
    .filter((name) => /lock/i.test(name))
    .forEach((name) => {
      visit(path.join(dataDir, name));
    });
  const recordedPid = new RegExp(`(?<=^|"pid":\\s*)${deadPid}(?=\\s*$|\\s*[,}])`, 'm');
  let rewritten = 0;
  for (const file of files) {
    const before = statSync(file);
    const text = readFileSync(file, 'utf8');
    if (!recordedPid.test(text)) continue;
    writeFileSync(file, text.replace(recordedPid, String(pid)));
    utimesSync(file, before.atime, before.mtime);
    rewritten += 1;
  }
  expect(rewritten, `lock records naming pid ${deadPid} under ${dataDir}`).toBe(1);
}

/** A released lock is taken without waiting for it to look stale. */
async function expectFreeAtOnce(dataDir: string): Promise<void> {
  const started = Date.now();
  const lock = await lockDataDir(dataDir);
  lock.release();
  expect(Date.now() - started).toBeLessThan(1_000);
}

async function keptRows(dataDir: string): Promise<string[]> {
  const db = await openPglite({ dataDir });
  try {
    return (await db.query<{ v: string }>('select v from kept order by v')).map((r) => r.v);
  } finally {
    await db.close();
  }
}

// each test starts several processes that each start PGlite
describe('embedded database lock', { timeout: 120_000 }, () => {
  it('refuses a second opener of the same data directory in this process, and reopens after close', async () => {
    const dir = scratchDir();
    const first = await openPglite({ dataDir: dir });
    await first.exec('create table kept (v text)');
    await first.query(`insert into kept values ('first')`);
    const err = await openPglite({ dataDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(inUseMessage(dir, 'this process'));
    await first.close();
    const again = await openPglite({ dataDir: dir });
    expect(await again.query('select v from kept')).toEqual([{ v: 'first' }]);
    await again.close();
  });

  it('the CLI refuses with one line naming the directory and the holder while this process holds it', async () => {
    const dir = scratchDir();
    const holder = await openPglite({ dataDir: dir });
    try {
      const cli = path.resolve('bin/tutordex.js');
      const child = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [cli, 'db', 'migrate'], { env: { ...process.env, TUTORDEX_DATA_DIR: dir, DATABASE_URL: '' } });
        let stderr = '';
        p.stderr.on('data', (d) => (stderr += d));
        p.on('close', (code) => resolve({ code, stderr }));
      });
      expect(child.code).toBe(1);
      expect(child.stderr.trim().replace(/^tutordex: /, '')).toMatch(inUseMessage(dir, process.pid));
    } finally {
      await holder.close();
    }
  });

  it('refuses while another live process holds it: one clear line naming the directory and that process, promptly', async () => {
    const dir = scratchDir();
    const holder = await startHolder(dir);
    expect(await openIn(holder)).toBe('opened');
    const started = Date.now();
    const err = await openPglite({ dataDir: dir }).catch((e: unknown) => e);
    const waited = Date.now() - started;
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(inUseMessage(dir, holder.pid));
    expect(waited).toBeLessThan(REFUSAL_BOUND_MS);
    holder.send('close');
    expect((await holder.closed).code).toBe(0);
    holders.splice(holders.indexOf(holder), 1);
    await expectFreeAtOnce(dir);
    expect(await keptRows(dir)).toEqual([]);
  });

  it('a holder that exits without closing frees the lock at once', async () => {
    const dir = scratchDir();
    const holder = await startHolder(dir);
    expect(await openIn(holder)).toBe('opened');
    holder.send('exit');
    expect((await holder.closed).code).toBe(0);
    holders.splice(holders.indexOf(holder), 1);
    await expectFreeAtOnce(dir);
  });

  it('a holder killed with SIGKILL leaves a lock the next opener takes over within seconds, with its committed rows', async () => {
    const dir = scratchDir();
    const holder = await startHolder(dir);
    expect(await openIn(holder)).toBe('opened');
    holder.send('insert before the kill');
    expect(await holder.next()).toBe('inserted');
    await killHard(holder);

    const started = Date.now();
    expect(await keptRows(dir)).toEqual(['before the kill']);
    expect(Date.now() - started).toBeLessThan(TAKEOVER_BOUND_MS);
  });

  it('a lock left by a killed holder whose pid is now ours is taken over, not called "already open in this process"', async () => {
    const dir = scratchDir();
    const holder = await startHolder(dir);
    expect(await openIn(holder)).toBe('opened');
    await killHard(holder);
    recordLockAsLeftBy(dir, holder.pid, process.pid);

    const started = Date.now();
    const db = await openPglite({ dataDir: dir });
    expect(Date.now() - started).toBeLessThan(TAKEOVER_BOUND_MS);
    try {
      // and a second opener in this process is still refused at once
      const err = await openPglite({ dataDir: dir }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(inUseMessage(dir, 'this process'));
    } finally {
      await db.close();
    }
  });

  it.skipIf(!pidNamespaces)('node as PID 1 (a container) restarted after kill -9 opens again, within seconds', async () => {
    const dir = scratchDir();
    const first = await startHolder(dir, { ownPidNamespace: true });
    expect(first.pid).toBe(1);
    expect(await openIn(first)).toBe('opened');
    first.send('insert from the first PID 1');
    expect(await first.next()).toBe('inserted');
    await killHard(first);

    const second = await startHolder(dir, { ownPidNamespace: true });
    expect(second.pid).toBe(1);
    const started = Date.now();
    expect(await openIn(second)).toBe('opened');
    expect(Date.now() - started).toBeLessThan(TAKEOVER_BOUND_MS);
    second.send('close');
    expect((await second.closed).code).toBe(0);
    holders.splice(holders.indexOf(second), 1);
    expect(await keptRows(dir)).toEqual(['from the first PID 1']);
  });

  it('openers racing for one stale lock: exactly one takes it over, the others are told who has it', async () => {
    const dir = scratchDir();
    const dead = await startHolder(dir);
    expect(await openIn(dead)).toBe('opened');
    await killHard(dead);

    const racers = await Promise.all([startHolder(dir), startHolder(dir), startHolder(dir)]);
    racers.forEach((r) => {
      r.send('open');
    });
    const answers = await Promise.all(racers.map((r) => r.next()));
    const winners = racers.filter((_, i) => answers[i] === 'opened');
    expect(winners, answers.join('\n')).toHaveLength(1);
    for (const [i, answer] of answers.entries()) {
      if (racers[i] === winners[0]) continue;
      expect(answer).toMatch(/^refused /);
      expect(JSON.parse(answer.slice('refused '.length))).toMatch(inUseMessage(dir, winners[0]!.pid));
    }
  });

  it('a holder stopped (SIGSTOP) long enough to be taken over exits at once when it resumes, with one clear line', async () => {
    const dir = scratchDir();
    const paused = await startHolder(dir);
    expect(await openIn(paused)).toBe('opened');
    process.kill(paused.hostPid, 'SIGSTOP');
    const taker = await openPglite({ dataDir: dir });
    try {
      await taker.exec(`create table if not exists kept (v text); insert into kept values ('taker')`);
      process.kill(paused.hostPid, 'SIGCONT');
      const resumed = await Promise.race([paused.closed, new Promise<null>((r) => setTimeout(() => r(null), 5_000))]);
      expect(resumed, 'the resumed holder is still running').not.toBeNull();
      expect(resumed!.code).toBe(1);
      expect(resumed!.stderr).toMatch(/^tutordex: lost the lock on the embedded database in [^\n]+\n$/);
      holders.splice(holders.indexOf(paused), 1);
      expect(await taker.query('select v from kept')).toEqual([{ v: 'taker' }]);
    } finally {
      await taker.close();
    }
  });
});
