/**
 * One simulation run: the whole pipeline on a fresh database, driven by a scenario (scenario.ts).
 *
 *   MemorySource ──tail (runLive)──▶ raw log + queue ──workers──▶ assignments + outbox ──dispatchers──▶ proxy ──▶ fake Bot API
 *
 * Workers are in-process worker services (worker + dispatcher loops, several at once, each with its own Bot API
 * client and path on the proxy) and, on Postgres, `tutordex worker` child processes. A kill point stops the
 * worker making the nth Bot API call (before or after its request reached Telegram) or any worker once n jobs
 * are done, and starts a replacement: children die by SIGKILL; in-process loops (PGlite has one owner) are aborted,
 * which is graceful – they finish their current job and send, so only children can die mid-send.
 *
 * After the timeline the storm goes on briefly, then heals (no more faults); the workers run until nothing is
 * left to do, are stopped, and one last clean drain runs with a clock two hours ahead (so every deferred retry is
 * due). Then the invariants are checked (invariants.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { runLive } from '../../src/collector/index.ts';
import type { Database } from '../../src/db/index.ts';
import { createBotClient } from '../../src/delivery/index.ts';
import { enqueueRawIds } from '../../src/queue/index.ts';
import { makeMessage, MemorySource } from '../../src/telegram/memory.ts';
import type { ChannelEvent, ResolvedChannel, SourceMessage, Subscription } from '../../src/telegram/index.ts';
import { removeTutor, upsertTutor } from '../../src/tutors/index.ts';
import { runWorkerService, type WorkerServiceResult } from '../../src/worker/index.ts';
import { recordingLog, testConfig } from '../support/collector.ts';
import { openTestDatabase } from '../support/databases.ts';
import { startFakeBotApi, type FakeBotApi } from '../support/fake-bot-api.ts';
import { assertNoSecrets } from '../support/secrets.ts';
import { VERSION, workerConfig, workerProcessEnv } from '../support/worker.ts';
import { startBotProxy, type BotProxy, type ProxiedCall } from './bot-proxy.ts';
import { checkInvariants, tracer, type Observed, type Violations } from './invariants.ts';
import { LLM_TIMEOUT_S, startSimLlm } from './llm.ts';
import { unit } from './prng.ts';
import type { BotFault, KillPoint, Scenario, SimEvent, SimPost } from './scenario.ts';

const TOKEN = '123456:fake-token';
/** in-process Bot API clients time out after this; a `slow` answer comes later */
export const BOT_TIMEOUT_S = 1;
const LEASE_S = 3;
const STALE_S = 4;
/** in-process workers' clock runs this much faster than real time (retry backoffs and deferrals are shorter) */
const CLOCK_SPEED = 4;

export interface SimResult {
  violations: Violations;
  info: Record<string, number>;
  line: string;
  figures: Figures;
}

export interface Figures {
  posts: number;
  jobs: number;
  assignments: number;
  extraction: Record<string, number>;
  deliveries: Record<string, number>;
  botCalls: Record<string, number>;
  accepted: { broadcasts: number; dms: number; edits: number; deletes: number };
  llm: Record<string, number> | null;
  kills: { child: number; loop: number; planned: number };
  workersStarted: number;
  seconds: number;
  healedAfterS: number;
  quiescent: boolean;
  /** source events fired by what the pipeline did: edits while a broadcast was in flight, deletes during extraction */
  triggered?: { editsInFlight: number; deletesDuringExtraction: number };
  /** log lines of in-process workers naming ECONNREFUSED */
  refusedSeen?: number;
}

interface Worker {
  id: number;
  kind: 'loop' | 'child';
  alive: boolean;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** MemorySource that says when the tail has subscribed (events emitted before that would be lost). */
class SimSource extends MemorySource {
  private ready!: () => void;
  readonly subscribed = new Promise<void>((r) => (this.ready = r));
  override async subscribe(channels: ResolvedChannel[], onEvent: (event: ChannelEvent) => Promise<void>): Promise<Subscription> {
    const s = await super.subscribe(channels, onEvent);
    this.ready();
    return s;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSimulation(s: Scenario): Promise<SimResult> {
  const started = Date.now();
  const opened = await openTestDatabase(s.driver);
  const t = opened.handle;
  const cleanups: (() => Promise<unknown>)[] = [];
  const bot = await startFakeBotApi();
  cleanups.push(() => bot.close());
  // ---- the in-memory Telegram, and the source events that fire on what the pipeline does (not on time)
  const source = new SimSource();
  for (const link of s.agencies)
    source.addChannel({ channelLink: link, channelId: String(5000 + s.agencies.indexOf(link)), title: `${link.slice(5)} assignments` });
  const current = new Map<string, SourceMessage>();
  const deletedSoFar = new Set<string>();
  const fired = new Set<SimEvent>();
  const applyEdit = (e: Extract<SimEvent, { kind: 'edit' }>) => {
    if (fired.has(e)) return;
    fired.add(e);
    const p = s.posts.get(e.post)!;
    const editDate = new Date();
    current.set(p.key, { ...current.get(p.key)!, text: e.text, editDate });
    source.edit(p.channel, p.messageId, e.text, editDate);
  };
  const applyDelete = (e: Extract<SimEvent, { kind: 'delete' }>) => {
    if (fired.has(e)) return;
    fired.add(e);
    const p = s.posts.get(e.post)!;
    deletedSoFar.add(p.key);
    source.delete(p.channel, [p.messageId]);
  };
  const trace = tracer(s);
  const onSend = new Map<number, Extract<SimEvent, { kind: 'edit' }>>();
  const onExtract: { e: Extract<SimEvent, { kind: 'delete' }>; tokens: string[] }[] = [];
  for (const e of s.events) {
    if (e.kind === 'edit' && e.trigger === 'on_send') onSend.set(s.posts.get(e.post)!.items[0]!.job, e);
    if (e.kind === 'delete' && e.trigger === 'on_extract') {
      const p = s.posts.get(e.post)!;
      const tokens = p.items.length === 1 ? [p.text.trim().slice(0, 80)] : p.items.map((i) => `$${s.jobs[i.job - 1]!.rates[0]}/h`);
      onExtract.push({ e, tokens });
    }
  }
  const hookStats = { editsInFlight: 0, deletesDuringExtraction: 0 };
  let dbForHooks: Database | null = null;
  const pollUntil = async (check: () => Promise<boolean>, ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end && !(await check())) await sleep(50);
  };
  const jobRow = async (p: SimPost) =>
    (
      await dbForHooks!.query<{ status: string; reason: string | null; deleted: boolean }>(
        `select e.status, e.meta ->> 'enqueue_reason' as reason, r.deleted_at is not null as deleted
           from telegram_messages_raw r left join telegram_extractions e on e.raw_id = r.id where r.channel_link = $1 and r.message_id = $2`,
        [p.channel, p.messageId],
      )
    )[0];
  /** LLM request for a post with an on_extract delete: delete it now, answer once the deletion is stored */
  const beforeLlmAnswer = async (target: string) => {
    for (const h of onExtract) {
      if (fired.has(h.e) || !current.has(h.e.post) || !h.tokens.some((tok) => target.includes(tok))) continue;
      applyDelete(h.e);
      hookStats.deletesDuringExtraction++;
      const p = s.posts.get(h.e.post)!;
      await pollUntil(async () => (await jobRow(p))?.deleted === true, 1500);
    }
  };
  const llm = s.mode === 'llm' ? await startSimLlm(s.seed, s.weather, beforeLlmAnswer) : null;
  if (llm) cleanups.push(() => llm.close());
  const logs: ReturnType<typeof recordingLog>[] = [];
  const childOutput: string[] = [];

  try {
    const workers = new Map<number, Worker>();
    let nextWorker = 1;
    const kills = { child: 0, loop: 0, planned: s.kills.length };
    const killAt = new Map<number, KillPoint>();
    for (const k of s.kills) if (k.trigger === 'bot_call') killAt.set(k.n, k);
    const afterForwardKills = new Set<number>();
    let stopping = false;

    const proxy: BotProxy = await startBotProxy({
      upstream: bot.url,
      slowOk: (w) => workers.get(w)?.kind !== 'child',
      pick: ({ method, chat, text, nth }) => pickBotFault(s, method, chat, text, nth),
      async onCall(call: ProxiedCall) {
        const k = stopping ? undefined : killAt.get(call.seq);
        if (!k) return 'continue';
        killAt.delete(call.seq);
        const w = workers.get(call.worker);
        if (!w?.alive) return 'continue';
        if (w.kind === 'child' && k.when === 'after_forward') {
          afterForwardKills.add(call.seq);
          return 'continue';
        }
        await killAndReplace(w);
        return w.kind === 'child' ? 'drop' : 'continue';
      },
      async afterForward(call: ProxiedCall) {
        const edit = call.method === 'sendMessage' && s.broadcastChats.includes(call.chat) && call.text ? onSend.get(trace(call.text).job ?? -1) : undefined;
        if (edit && !fired.has(edit) && !stopping) {
          // Telegram has the broadcast; the post is edited before the answer returns, and the answer waits for the
          // edit's job – but not past the caller's client timeout (that would be a `slow` fault, not this race)
          applyEdit(edit);
          hookStats.editsInFlight++;
          const p = s.posts.get(edit.post)!;
          const child = workers.get(call.worker)?.kind === 'child';
          await pollUntil(
            async () => {
              const r = await jobRow(p);
              return r?.reason === 'edit' && ['ok', 'skipped', 'failed'].includes(r.status);
            },
            child ? 8000 : BOT_TIMEOUT_S * 1000 - 250,
          );
        }
        if (!afterForwardKills.delete(call.seq)) return;
        const w = workers.get(call.worker);
        if (w?.alive) await killAndReplace(w);
      },
    });
    cleanups.push(() => proxy.close());

    const env: Record<string, string> = {
      EXTRACTION_WORKER_BROADCAST: '1',
      EXTRACTION_WORKER_DMS: '1',
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_BOT_API_URL: proxy.urlFor(0),
      BROADCAST_CHAT_ID: s.broadcastChats.join(','),
      DELIVERY_SENDING_LEASE_SECONDS: String(LEASE_S),
      TELEGRAM_BOT_TIMEOUT_SECONDS: String(BOT_TIMEOUT_S),
      DELIVERY_MAX_ATTEMPTS: '5',
      EXTRACTION_STALE_PROCESSING_SECONDS: String(STALE_S),
      EXTRACTION_MAX_ATTEMPTS: '4',
      EXTRACTION_WORKER_CONCURRENCY: String(s.workers.concurrency),
      EXTRACTION_WORKER_BATCH_SIZE: String(s.workers.batchSize),
      EXTRACTION_MODE: s.mode,
      DUPLICATE_DETECTION_ENABLED: '1',
      ...(llm
        ? { LLM_API_URL: llm.url, LLM_TIMEOUT_SECONDS: String(LLM_TIMEOUT_S), LLM_CIRCUIT_BREAKER_THRESHOLD: '5', LLM_CIRCUIT_BREAKER_TIMEOUT_SECONDS: '1' }
        : {}),
    };
    const config = workerConfig(env);
    const t0 = Date.now();
    const fastClock = () => new Date(t0 + (Date.now() - t0) * CLOCK_SPEED);

    for (const tutor of s.tutors) await upsertTutor(t.db, { chatId: tutor.chatId, subjects: tutor.subjects, levels: tutor.levels, dmDailyLimit: 1000 });

    const pools: Database[] = [];
    const pool = async (max: number): Promise<Database> => {
      if (s.driver === 'pglite') return t.db;
      const d = await t.connect(max);
      pools.push(d);
      return d;
    };

    const startLoop = async (): Promise<Worker> => {
      const id = nextWorker++;
      const abort = new AbortController();
      const log = recordingLog();
      logs.push(log);
      const db = await pool(3);
      const running: Promise<WorkerServiceResult | null> = runWorkerService({
        db,
        config,
        log,
        signal: abort.signal,
        flags: { oneshot: false },
        botClient: createBotClient({ token: TOKEN, apiUrl: proxy.urlFor(id), timeoutSeconds: BOT_TIMEOUT_S }),
        intervals: { staleMs: 300, heartbeatMs: 500, maintenanceMs: 600_000 },
        now: fastClock,
      }).catch((err: Error) => {
        log.error({ error: err.message }, 'sim_worker_crashed');
        return null;
      });
      const w: Worker = {
        id,
        kind: 'loop',
        alive: true,
        async kill() {
          w.alive = false;
          abort.abort();
          kills.loop++;
          void running; // graceful: it finishes its current job and send in the background
        },
        async stop() {
          w.alive = false;
          abort.abort();
          await running;
        },
      };
      workers.set(id, w);
      return w;
    };

    const startChild = (): Worker => {
      const id = nextWorker++;
      const child: ChildProcess = spawn(process.execPath, ['bin/tutordex.js', 'worker'], {
        env: { ...process.env, ...workerProcessEnv(t.url!, proxy.urlFor(id), { ...env, TELEGRAM_BOT_API_URL: proxy.urlFor(id), LOG_LEVEL: 'error' }) },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-4000)));
      const exited = new Promise<void>((r) => child.on('exit', () => r()));
      void exited.then(() => childOutput.push(err));
      const w: Worker = {
        id,
        kind: 'child',
        alive: true,
        async kill() {
          w.alive = false;
          child.kill('SIGKILL');
          kills.child++;
          await exited;
        },
        async stop() {
          w.alive = false;
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
          await exited;
          clearTimeout(timer);
        },
      };
      workers.set(id, w);
      return w;
    };

    async function killAndReplace(w: Worker): Promise<void> {
      await w.kill();
      // a replacement starts a moment later (a supervisor restarting the process)
      setTimeout(() => {
        if (stopping) return;
        if (w.kind === 'child') startChild();
        else void startLoop();
      }, 150);
    }

    // ---- collector: the tail on the in-memory Telegram
    dbForHooks = await pool(2);
    const collectorAbort = new AbortController();
    const collectorLog = recordingLog();
    logs.push(collectorLog);
    const collectorDb = await pool(2);
    const collector = runLive({ db: collectorDb, config: testConfig(), log: collectorLog, signal: collectorAbort.signal }, source, {
      channels: s.agencies,
      catchupSource: null,
    }).catch((err: Error) => collectorLog.error({ error: err.message }, 'sim_collector_crashed'));
    await source.subscribed;

    for (let i = 0; i < s.workers.loops; i++) await startLoop();
    for (let i = 0; i < s.workers.children; i++) startChild();

    // kill points on finished jobs
    const jobKills = s.kills.filter((k) => k.trigger === 'jobs_done').sort((a, b) => a.n - b.n);
    const poller = (async () => {
      while (jobKills.length > 0 && !stopping) {
        await sleep(100);
        const [{ n } = { n: 0 }] = await t.db.query<{ n: number }>(
          `select count(*)::int as n from telegram_extractions where status in ('ok', 'skipped', 'failed')`,
        );
        if (n < jobKills[0]!.n || stopping) continue;
        const k = jobKills.shift()!;
        const alive = [...workers.values()].filter((w) => w.alive);
        if (alive.length > 0) await killAndReplace(alive[k.target % alive.length]!);
      }
    })();

    // ---- the timeline
    const removed: Observed['removed'] = [];
    const operatorRuns: Promise<unknown>[] = [];
    const skippedEvents: string[] = [];
    const rawIdOf = async (channel: string, messageId: number) =>
      (await t.db.query<{ id: number }>(`select id from telegram_messages_raw where channel_link = $1 and message_id = $2`, [channel, messageId]))[0]?.id ??
      null;
    const timelineStart = Date.now();
    for (const e of s.events) {
      const wait = timelineStart + e.at - Date.now();
      if (wait > 0) await sleep(wait);
      if (e.kind === 'post') {
        const p = s.posts.get(e.post)!;
        const m = makeMessage({ id: p.messageId, date: new Date(), text: p.text });
        current.set(p.key, m);
        source.post(p.channel, m);
      } else if (e.kind === 'edit') {
        if (e.trigger === 'time') applyEdit(e);
      } else if (e.kind === 'delete') {
        if (e.trigger === 'time') applyDelete(e);
      } else if (e.kind === 'reread') {
        const p = s.posts.get(e.post)!;
        const m = current.get(p.key);
        if (m && !deletedSoFar.has(p.key)) source.post(p.channel, m);
      } else if (e.kind === 'force') {
        const p = s.posts.get(e.post)!;
        const id = current.has(p.key) ? await rawIdOf(p.channel, p.messageId) : null;
        if (id === null) skippedEvents.push(`force ${p.key} (not ingested yet)`);
        else await enqueueRawIds(t.db, VERSION, [id], true);
      } else if (e.kind === 'operator_drain') {
        const log = recordingLog();
        logs.push(log);
        operatorRuns.push(
          runWorkerService({
            db: await pool(2),
            config,
            log,
            signal: new AbortController().signal,
            flags: { oneshot: true, broadcast: false, dms: false, maxJobs: 3 },
            intervals: { staleMs: 300, heartbeatMs: 500, maintenanceMs: 600_000 },
          }).catch((err: Error) => log.error({ error: err.message }, 'sim_operator_drain_failed')),
        );
      } else if (e.kind === 'remove_tutor') {
        await removeTutor(t.db, e.chatId);
        const at = Date.now();
        // DMs already on the wire may still arrive; nothing else may
        const inFlight = await t.db.query<{ assignment_id: number }>(
          `select assignment_id from deliveries where kind = 'dm' and recipient = $1 and status = 'sending'`,
          [String(e.chatId)],
        );
        removed.push({ chatId: e.chatId, at, inFlight: inFlight.map((r) => Number(r.assignment_id)) });
      }
    }
    // triggered events that never found their moment (e.g. a broadcast that was never sent) happen now
    for (const e of s.events) {
      if (e.kind === 'edit') applyEdit(e);
      if (e.kind === 'delete') applyDelete(e);
    }
    await source.settle();
    await Promise.all(operatorRuns);

    // ---- the storm goes on a moment, then heals; workers run until nothing is left
    await sleep(1500);
    await proxy.heal();
    const healedAfterS = (Date.now() - started) / 1000;
    const quiescent = await waitQuiescent(t.db, 45_000);

    stopping = true;
    await poller;
    await Promise.all([...workers.values()].map((w) => w.stop()));
    collectorAbort.abort();
    await collector;
    // let leases and claims of killed workers run out, then one clean drain sees every deferred row due
    await sleep(Math.max(LEASE_S, STALE_S) * 1000 + 300);
    const finalLog = recordingLog();
    logs.push(finalLog);
    const finalAbort = new AbortController();
    const finalTimer = setTimeout(() => finalAbort.abort(), 60_000);
    const ahead = () => new Date(Date.now() + 2 * 3_600_000);
    await runWorkerService({
      db: t.db,
      config,
      log: finalLog,
      signal: finalAbort.signal,
      flags: { oneshot: true },
      botClient: createBotClient({ token: TOKEN, apiUrl: proxy.urlFor(nextWorker++), timeoutSeconds: 5 }),
      intervals: { staleMs: 300, heartbeatMs: 500, maintenanceMs: 600_000 },
      now: ahead,
    });
    clearTimeout(finalTimer);

    for (const d of pools) await d.close().catch(() => {});
    pools.length = 0;

    const observed: Observed = { bot, proxy, removed };
    const { violations, info } = await checkInvariants(s, t.db, observed);
    const figures = await gatherFigures(s, t.db, bot, proxy, llm?.served ?? null, kills, nextWorker - 1, started, healedAfterS, quiescent);
    for (const l of logs) assertNoSecrets('simulation worker log', JSON.stringify(l.lines));
    for (const out of childOutput) assertNoSecrets('simulation child worker stderr', out);
    if (skippedEvents.length) figures.extraction.skipped_events = skippedEvents.length;
    figures.triggered = hookStats;
    // what the in-process clients saw of refusals (the proxy cannot see a connection it refused)
    figures.refusedSeen = logs.reduce((n, l) => n + l.lines.filter((x) => JSON.stringify(x.fields).includes('ECONNREFUSED')).length, 0);
    if (process.env.SIM_DUMP) await dump(process.env.SIM_DUMP, s, t.db, bot, proxy, violations);
    return { violations, info, figures, line: summaryLine(s, figures, violations, info) };
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await opened.close().catch(() => {});
  }
}

/** SIM_DUMP=<dir>: everything a failing seed needs to be understood, as one JSON file per run. */
async function dump(dir: string, s: Scenario, db: Database, bot: FakeBotApi, proxy: BotProxy, violations: Violations): Promise<void> {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  const q = (sql: string) => db.query<Record<string, unknown>>(sql);
  const data = {
    scenario: { ...s, posts: [...s.posts.values()] },
    violations,
    shown: Object.fromEntries(s.broadcastChats.map((c) => [c, bot.messages(c)])),
    botCalls: bot.calls.map((c) => ({
      method: c.method,
      chat: c.chatId,
      status: c.status,
      at: c.at,
      text: c.body.text ?? null,
      message_id: c.body.message_id ?? null,
    })),
    proxyCalls: proxy.calls,
    assignments: await q(
      `select id, external_id, status, closed_reason, raw_id, message_id, channel_link, duplicate_group_id, is_primary, assignment_code, rate_raw_text, academic_display_text from assignments order by id`,
    ),
    sources: await q(
      `select s.*, r.channel_link, r.message_id from assignment_sources s join telegram_messages_raw r on r.id = s.raw_id order by s.assignment_id`,
    ),
    deliveries: await q(
      `select id, assignment_id, kind, recipient, status, attempts, telegram_message_id, sync_action, deleted_at, error_json, created_at, sent_at from deliveries order by id`,
    ),
    extractions: await q(
      `select e.id, r.channel_link, r.message_id, r.deleted_at, e.status, e.error_json, e.meta from telegram_extractions e join telegram_messages_raw r on r.id = e.raw_id order by e.id`,
    ),
  };
  writeFileSync(`${dir}/sim-${s.seed}-${s.driver}.json`, JSON.stringify(data, null, 1));
}

/** The fault a Bot API call gets: keyed by method, chat, the message's tracer and the nth try of it. */
function pickBotFault(
  s: Scenario,
  method: string,
  chat: string,
  text: string | null,
  nth: number,
): { fault: BotFault; retryAfter?: number; refuseMs?: number; slowMs?: number } {
  const w = s.weather;
  const key = [method, chat, tracerKey(text), nth];
  const u = unit(s.seed, 'bot', ...key);
  if (u >= w.botFaultRate) return { fault: 'ok' };
  const weights = w.botWeights;
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  let x = (u / w.botFaultRate) * total;
  let fault: BotFault = 'ok';
  for (const [k, v] of Object.entries(weights) as [Exclude<BotFault, 'ok'>, number][]) {
    if ((x -= v) < 0) {
      fault = k;
      break;
    }
  }
  const v = unit(s.seed, 'bot-param', ...key);
  return {
    fault,
    retryAfter: Math.round(w.retryAfter[0] + v * (w.retryAfter[1] - w.retryAfter[0])),
    refuseMs: Math.round(w.refuseMs[0] + v * (w.refuseMs[1] - w.refuseMs[0])),
    slowMs: BOT_TIMEOUT_S * 1000 + 600,
  };
}

/** What identifies a message's content across re-renders: its code and rate lines. */
export function tracerKey(text: string | null): string {
  if (!text) return '';
  const code = /🆔 ([^\n<]+)/.exec(text)?.[1]?.trim() ?? '';
  const rate = /💰 \$(\d+)/.exec(text)?.[1] ?? '';
  return `${code}|${rate}`;
}

async function waitQuiescent(db: Database, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  let calm = 0;
  while (Date.now() < end) {
    const [r] = await db.query<{ jobs: number; sends: number; syncs: number }>(
      `select (select count(*)::int from telegram_extractions where status in ('pending', 'processing')) as jobs,
              (select count(*)::int from deliveries where status in ('pending', 'sending')) as sends,
              (select count(*)::int from deliveries where sync_action is not null and status = 'sent' and deleted_at is null) as syncs`,
    );
    // twice in a row: a job finishing can still queue deliveries
    if (r!.jobs + r!.sends + r!.syncs === 0) {
      if (++calm >= 2) return true;
    } else calm = 0;
    await sleep(250);
  }
  return false;
}

async function gatherFigures(
  s: Scenario,
  db: Database,
  bot: FakeBotApi,
  proxy: BotProxy,
  llm: Record<string, number> | null,
  kills: Figures['kills'],
  workersStarted: number,
  started: number,
  healedAfterS: number,
  quiescent: boolean,
): Promise<Figures> {
  const group = async (sql: string) => Object.fromEntries((await db.query<{ k: string; n: number }>(sql)).map((r) => [r.k, r.n]));
  const [a] = await db.query<{ n: number }>(`select count(*)::int as n from assignments`);
  const ok = (m: string) => bot.calls.filter((c) => c.method === m && c.status === 200);
  const broadcastChats = new Set(s.broadcastChats);
  return {
    posts: s.posts.size,
    jobs: s.jobs.length,
    assignments: a!.n,
    extraction: await group(`select status as k, count(*)::int as n from telegram_extractions group by status order by status`),
    deliveries: await group(`select kind || ':' || status as k, count(*)::int as n from deliveries group by kind, status order by 1`),
    botCalls: proxy.counts(),
    accepted: {
      broadcasts: ok('sendMessage').filter((c) => broadcastChats.has(String(c.chatId))).length,
      dms: ok('sendMessage').filter((c) => !broadcastChats.has(String(c.chatId))).length,
      edits: ok('editMessageText').length,
      deletes: ok('deleteMessage').length,
    },
    llm,
    kills,
    workersStarted,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    healedAfterS: Math.round(healedAfterS * 10) / 10,
    quiescent,
  };
}

function summaryLine(s: Scenario, f: Figures, v: Violations, info: Record<string, number>): string {
  const counts = Object.entries(v)
    .map(([k, list]) => `${k}=${list.length}`)
    .join(' ');
  return (
    `[sim] seed=${s.seed} driver=${s.driver} mode=${s.mode} ${f.seconds}s · posts=${f.posts} jobs=${f.jobs} assignments=${f.assignments} ` +
    `extraction=${JSON.stringify(f.extraction)} deliveries=${JSON.stringify(f.deliveries)} · bot calls=${JSON.stringify(f.botCalls)} ` +
    `accepted=${JSON.stringify(f.accepted)}${f.llm ? ` llm=${JSON.stringify(f.llm)}` : ''} · workers=${f.workersStarted} kills=${JSON.stringify(f.kills)} triggered=${JSON.stringify(f.triggered ?? {})} refused_seen=${f.refusedSeen ?? 0}` +
    `${f.quiescent ? '' : ' NOT-QUIESCENT'} · info=${JSON.stringify(info)} · violations: ${counts}`
  );
}
