import {
  bumpFromReply,
  closeForRaw,
  closeDropped,
  closeForPost,
  closeFromReply,
  detectDuplicates,
  identifyItems,
  unlinkMovedItems,
  lockDuplicateGrouping,
  persistAssignment,
  type AssignmentInput,
  type PersistResult,
} from '../assignments/index.ts';
import type { Config } from '../config/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { isTransientDbError } from '../db/index.ts';
import {
  announceGroupTakeover,
  announceLeftBehind,
  groupBroadcastShown,
  inheritDmHistory,
  retireRedundantBroadcasts,
  queueBroadcasts,
  queueDms,
  reannounceBroadcasts,
  requestBroadcastSync,
} from '../delivery/index.ts';
import { ExtractionError, processPost, processRecord, readsAsClosure, type Extractor, type HardenedItem } from '../extraction/index.ts';
import { metrics } from '../metrics/index.ts';
import { complete, fail, release, skip, type ClaimedJob, type JobError } from '../queue/index.ts';
import { loadMatchableAssignment, markDmQueued, matchTutors, type MatchableAssignment } from '../tutors/index.ts';
import { structuredAssignment } from '../sources/index.ts';
import { decideSideEffects, type Decision } from './policy.ts';

export type JobOutcome = 'ok' | 'skipped' | 'failed' | 'retried' | 'released' | 'lost';

export interface JobDeps {
  db: Database;
  config: Config;
  extractor: Extractor;
  /** this worker's version is the live one: it writes assignments and may have side effects */
  live: boolean;
  broadcastOn: boolean;
  dmsOn: boolean;
  now: () => Date;
  /** aborted when the worker shuts down: an unfinished extraction is released, not failed */
  signal: AbortSignal;
}

interface RawRow {
  id: number;
  channel_link: string;
  channel_title: string | null;
  message_id: number;
  message_date: Date;
  edit_date: Date | null;
  raw_text: string | null;
  is_forward: boolean;
  is_reply: boolean;
  deleted_at: Date | null;
  reply_to: number | null;
  message_json: Record<string, unknown> | null;
}

/** Thrown inside the persist transaction when the job is no longer ours (stale requeue): everything rolls back. */
class LostClaim extends Error {}

const ms = (start: number) => Math.round(performance.now() - start);

async function loadRaw(db: Queryable, rawId: number): Promise<RawRow | null> {
  const [row] = await db.query<RawRow>(
    `select r.id, r.channel_link, coalesce(c.agency_telegram_channel_name, r.message_json ->> 'source_title') as channel_title, r.message_id,
            r.message_date, r.edit_date, r.raw_text, r.is_forward, r.is_reply, r.deleted_at, (r.message_json ->> 'reply_to_msg_id')::bigint as reply_to,
            case when r.message_json ? 'source' then r.message_json end as message_json
       from telegram_messages_raw r left join telegram_channels c on c.channel_link = r.channel_link
      where r.id = $1`,
    [rawId],
  );
  return row ?? null;
}

/**
 * Inside the persist transaction: has the post been deleted since it was loaded? FOR SHARE makes a concurrent
 * delete mark wait for this transaction (its trigger then closes what this job wrote), or this transaction wait
 * for the delete mark and see it.
 */
async function deletedNow(tx: Queryable, rawId: number): Promise<boolean> {
  const [row] = await tx.query<{ deleted: boolean }>('select deleted_at is not null as deleted from telegram_messages_raw where id = $1 for share', [rawId]);
  return row?.deleted ?? true;
}

/**
 * The source post was deleted: close the assignments it stands for and delete their broadcasts; another agency's
 * open copy of the same job takes over in those chats.
 */
async function closeDeleted(tx: Queryable, rawId: number): Promise<number[]> {
  const closed = await closeForRaw(tx, rawId, 'source_deleted');
  // hand over first: the chats a closed copy was about to be shown in go to the open copy, before they are cancelled
  await announceGroupTakeover(tx, closed);
  for (const id of closed) await requestBroadcastSync(tx, id, 'delete');
  return closed;
}

const policy = (c: Config) => ({
  maxAttempts: c.worker.maxAttempts,
  backoffBaseSeconds: c.worker.backoffBaseSeconds,
  backoffMaxSeconds: c.worker.backoffMaxSeconds,
});

function errorOf(err: unknown): { error: JobError; transient: boolean } {
  if (err instanceof ExtractionError) {
    return {
      error: { type: err.type, message: err.message.slice(0, 1000), ...(Object.keys(err.details).length ? { details: err.details } : {}) },
      transient: err.transient,
    };
  }
  if (isTransientDbError(err)) return { error: { type: 'persist_failed', message: (err as Error).message.slice(0, 1000) }, transient: true };
  const e = err as Error;
  return { error: { type: 'unhandled_exception', message: String(e?.message ?? err).slice(0, 1000), name: e?.name ?? 'Error' }, transient: false };
}

/**
 * One job: load raw → triage → extractor → hardening → (live version) persist + duplicates + outbox → queue
 * row. Persisting, queueing broadcasts/DMs and completing the job are one transaction fenced by the claim, so a
 * job requeued from under a slow worker can never write twice.
 */
export async function processJob(job: ClaimedJob, deps: JobDeps): Promise<JobOutcome> {
  const { db, config } = deps;
  const t0 = performance.now();
  const stages: Record<string, number> = {};
  const raw = await loadRaw(db, job.rawId);
  stages.load_raw_ms = ms(t0);
  if (!raw) {
    await fail(
      db,
      [{ id: job.id, attempt: job.attempt, error: { type: 'raw_missing', message: `raw message ${job.rawId} no longer exists` }, transient: false }],
      policy(config),
    );
    return 'failed';
  }

  let result: Awaited<ReturnType<typeof processPost>>;
  const tExtract = performance.now();
  try {
    // an agency API's record is mapped, not extracted (src/sources); a post goes through triage and the extractor
    const record = raw.deleted_at === null ? structuredAssignment(raw.message_json) : null;
    result = record
      ? processRecord(record, raw.raw_text ?? '', raw.channel_link)
      : await processPost(
          { text: raw.raw_text, channelLink: raw.channel_link, isForward: raw.is_forward, isReply: raw.is_reply, deleted: raw.deleted_at !== null },
          { extractor: deps.extractor, signal: deps.signal },
        );
  } catch (err) {
    if (deps.signal.aborted) {
      await release(db, [job], 'shutdown');
      return 'released';
    }
    if (err instanceof ExtractionError && err.type.startsWith('llm_')) metrics.llmErrors.inc({ type: err.type });
    if (err instanceof ExtractionError && err.type === 'llm_circuit_open') {
      // An LLM outage must not spend the job's budget or fail it; give it back untouched.
      await release(db, [job], 'llm_circuit_open');
      return 'released';
    }
    const { error, transient } = errorOf(err);
    const out = await fail(db, [{ id: job.id, attempt: job.attempt, error, transient, meta: { stage: 'extract', stages } }], policy(config));
    return out.retried.length ? 'retried' : 'failed';
  }
  stages.extract_ms = ms(tExtract);
  if (result.outcome === 'ok') countLlm(result.items);
  metrics.jobSeconds.observe({ stage: 'extract' }, stages.extract_ms / 1000);

  if (result.outcome === 'skipped') {
    const meta: Record<string, unknown> = { ...result.meta, stages };
    const mayTouchBroadcast = mayTouchBroadcastFor(job, deps);
    await db
      .transaction(async (tx) => {
        // a reply's reopen or close, like a persist, is ordered with deletions of the job's other copies
        if (deps.live && config.assignments.duplicates.enabled) await lockDuplicateGrouping(tx);
        if (deps.live && result.reason === 'reply' && raw.reply_to !== null) {
          const parent = { channelLink: raw.channel_link, parentMessageId: raw.reply_to };
          if (readsAsClosure(raw.raw_text ?? '')) {
            // "Taken, thanks all" under the post: its job is over
            const closed = await closeFromReply(tx, parent);
            if (mayTouchBroadcast) for (const id of closed) await requestBroadcastSync(tx, id, 'delete');
            meta.closed_assignments = closed;
          } else {
            const { bumped, reopened } = await bumpFromReply(tx, { ...parent, replyDate: raw.message_date, bumpMinSeconds: config.assignments.bumpMinSeconds });
            meta.bumped_assignments = bumped;
            // "Still available" under an expired post opens it again: shown again, as a re-post would be
            const fresh = deps.now().getTime() - raw.message_date.getTime() <= config.assignments.sideEffectMaxAgeHours * 3_600_000;
            if (mayTouchBroadcast && fresh) for (const id of reopened) await reannounceBroadcasts(tx, id);
          }
        }
        if (deps.live && result.reason === 'not_assignment: not_a_request' && (result.meta.gate as { marker?: string } | undefined)?.marker === 'closed') {
          // the post now reads as closed ("TAKEN", "— FILLED"): the job it stood for is over
          const closed = await closeForPost(tx, raw.id, 'closed_notice');
          if (mayTouchBroadcast) for (const id of closed) await requestBroadcastSync(tx, id, 'delete');
          if (closed.length) meta.closed_assignments = closed;
        }
        if (deps.live && result.reason === 'deleted') meta.closed_assignments = await closeDeleted(tx, raw.id);
        const done = await skip(tx, [{ id: job.id, attempt: job.attempt, reason: result.reason, meta }]);
        if (done.length === 0) throw new LostClaim();
      })
      .catch((err) => {
        if (!(err instanceof LostClaim)) throw err;
      });
    return 'skipped';
  }

  const first = result.items[0]!;
  const extractorMeta = (first.meta.extractor ?? {}) as Record<string, unknown>;
  const llmModel = typeof extractorMeta.model === 'string' ? extractorMeta.model : null;
  const baseMeta: Record<string, unknown> = {
    ...result.meta,
    ...first.meta,
    ...(result.items.length > 1 ? { items: result.items.map((i) => ({ canonical: i.canonical, item_code: i.meta.item_code ?? null })) } : {}),
  };

  if (!deps.live) {
    const done = await complete(db, [
      { id: job.id, attempt: job.attempt, canonical: first.canonical, meta: { ...baseMeta, stages, persist: { action: 'analysis_only' } }, llmModel },
    ]);
    return done.length ? 'ok' : 'lost';
  }

  const tPersist = performance.now();
  let outcome: JobOutcome = 'ok';
  try {
    await db.transaction(async (tx) => {
      // the grouping lock before the raw row's: a deletion (markDeleted, its trigger) takes them in that order too
      if (config.assignments.duplicates.enabled) await lockDuplicateGrouping(tx);
      if (await deletedNow(tx, raw.id)) {
        // Deleted while it was being extracted: nothing of it may be announced or stay open.
        const closed = await closeDeleted(tx, raw.id);
        const done = await skip(tx, [
          { id: job.id, attempt: job.attempt, reason: 'deleted', meta: { ...baseMeta, stages, deleted_during: 'extraction', closed_assignments: closed } },
        ]);
        if (done.length === 0) throw new LostClaim();
        outcome = 'skipped';
        return;
      }
      const inputs = result.items.map((item, index) => inputFor(job, raw, item, result.items.length > 1 ? String(item.meta.item_code ?? index + 1) : ''));
      // an edit may have shifted the post's items: each keeps the assignment it already is (identifyItems)
      const identity = await identifyItems(tx, raw.id, inputs);
      await unlinkMovedItems(tx, raw.id, identity.keys);
      const effects: (ItemEffects | { assignment_id: number; action: 'dropped_from_post'; sync?: 'delete' })[] = [];
      for (const [index, input] of inputs.entries()) effects.push(await persistItem(tx, job, raw, { ...input, itemKey: identity.keys[index]! }, deps));
      // only the agency's own edit removes a job from its post; a reparse that reads fewer items closes nothing
      for (const id of enqueueReasonOf(job) === 'edit' ? await closeDropped(tx, identity.dropped) : []) {
        metrics.assignmentsWritten.inc({ action: 'closed' });
        const synced = mayTouchBroadcastFor(job, deps) && (await requestBroadcastSync(tx, id, 'delete')) > 0;
        effects.push({ assignment_id: id, action: 'dropped_from_post', ...(synced ? { sync: 'delete' as const } : {}) });
      }
      stages.persist_ms = ms(tPersist);
      const done = await complete(tx, [
        { id: job.id, attempt: job.attempt, canonical: first.canonical, meta: { ...baseMeta, stages, assignments: effects }, llmModel },
      ]);
      if (done.length === 0) throw new LostClaim();
    });
  } catch (err) {
    if (err instanceof LostClaim) return 'lost';
    const { error, transient } = errorOf(err);
    const out = await fail(
      db,
      [
        {
          id: job.id,
          attempt: job.attempt,
          error: { ...error, type: error.type === 'unhandled_exception' ? 'persist_failed' : error.type },
          transient: transient || error.type === 'unhandled_exception',
          meta: { stage: 'persist', stages },
        },
      ],
      policy(config),
    );
    return out.retried.length ? 'retried' : 'failed';
  }
  if (outcome === 'ok') metrics.jobSeconds.observe({ stage: 'persist' }, (stages.persist_ms ?? 0) / 1000);
  return outcome;
}

interface ItemEffects {
  assignment_id: number;
  action: PersistResult['action'];
  matched_by: PersistResult['matchedBy'];
  status: string;
  duplicate_group_id: number | null;
  broadcast: { queued: number } | { suppressed: string };
  dm: { queued: number; already_delivered: number; matched: number } | { suppressed: string };
  sync?: 'edit' | 'delete';
  /** broadcasts queued for the duplicate group it left (announceLeftBehind) */
  left_behind_queued?: number;
}

const enqueueReasonOf = (job: ClaimedJob) => (typeof job.meta.enqueue_reason === 'string' ? job.meta.enqueue_reason : null);
/** A known assignment's broadcast may be edited or deleted – unless this run may not touch Telegram (a forced reparse, or broadcasting off). */
const mayTouchBroadcastFor = (job: ClaimedJob, deps: JobDeps) => deps.broadcastOn && enqueueReasonOf(job) !== 'force';

function inputFor(job: ClaimedJob, raw: RawRow, item: HardenedItem, itemKey: string): AssignmentInput {
  return {
    rawId: raw.id,
    itemKey,
    extractionId: job.id,
    pipelineVersion: job.pipelineVersion,
    channelLink: raw.channel_link,
    channelTitle: raw.channel_title,
    messageId: raw.message_id,
    messageDate: raw.message_date,
    editDate: raw.edit_date,
    rawText: raw.raw_text ?? '',
    canonical: item.canonical,
    signals: item.signals,
    meta: item.meta,
    sourceUrl: typeof raw.message_json?.url === 'string' ? raw.message_json.url : null,
  };
}

async function persistItem(tx: Queryable, job: ClaimedJob, raw: RawRow, input: AssignmentInput, deps: JobDeps): Promise<ItemEffects> {
  const { config } = deps;
  const persisted = await persistAssignment(tx, input, { bumpMinSeconds: config.assignments.bumpMinSeconds });
  metrics.assignmentsWritten.inc({ action: persisted.closedNow ? 'closed' : persisted.action });

  let duplicate = { groupId: null as number | null, joinedExisting: false, leftBehind: [] as number[] };
  if (config.assignments.duplicates.enabled && persisted.status === 'open' && (persisted.action === 'inserted' || persisted.displayChanged)) {
    const d = await detectDuplicates(tx, persisted.assignmentId, { minScore: config.assignments.duplicates.minScore });
    // "a copy is already announced" means shown somewhere, not merely open: copies that arrived as historical
    // posts or through a drain with broadcasting off were never shown, and this fresh one must be
    duplicate = { groupId: d.groupId, joinedExisting: d.groupId !== null && (await groupBroadcastShown(tx, persisted.assignmentId)), leftBehind: d.leftBehind };
    if (d.groupId !== null && persisted.action === 'inserted') metrics.duplicatesGrouped.inc();
    // it became another job: its DMs stay counted for the copies of the old job it left behind
    if (d.leftBehind.length > 0) await inheritDmHistory(tx, persisted.assignmentId, d.leftBehind);
  }

  const enqueueReason = enqueueReasonOf(job);
  const decision = decideSideEffects({
    live: deps.live,
    broadcastOn: deps.broadcastOn,
    dmsOn: deps.dmsOn,
    enqueueReason,
    action: persisted.action,
    status: persisted.status,
    sourceDate: raw.message_date,
    now: deps.now(),
    maxAgeHours: config.assignments.sideEffectMaxAgeHours,
    joinedExistingDuplicateGroup: duplicate.joinedExisting,
    broadcastTargets: config.delivery.broadcastChatIds.length,
  });

  const effects: ItemEffects = {
    assignment_id: persisted.assignmentId,
    action: persisted.action,
    matched_by: persisted.matchedBy,
    status: persisted.status,
    duplicate_group_id: duplicate.groupId,
    broadcast: suppressed('broadcast', decision.broadcast),
    dm: suppressed('dm', decision.dm),
  };
  if (decision.broadcast.send) {
    effects.broadcast = { queued: await queueBroadcasts(tx, persisted.assignmentId, config.delivery.broadcastChatIds) };
  }
  if (decision.dm.send) {
    const matches = await matchTutors(tx, await matchable(tx, persisted.assignmentId), { cap: config.delivery.dmMaxRecipients });
    const queued = await queueDms(
      tx,
      persisted.assignmentId,
      matches.map((m) => ({ tutorId: m.tutorId, chatId: m.chatId, distanceKm: m.distanceKm })),
    );
    await markDmQueued(
      tx,
      matches.map((m) => m.tutorId),
    );
    effects.dm = { queued: queued.queued, already_delivered: queued.alreadyDelivered, matched: matches.length };
  }
  // A known assignment that changed or closed gets its broadcast message edited or deleted.
  const mayTouchBroadcast = mayTouchBroadcastFor(job, deps);
  if (persisted.action !== 'inserted' && mayTouchBroadcast) {
    if (persisted.status !== 'open') {
      if (await requestBroadcastSync(tx, persisted.assignmentId, 'delete')) effects.sync = 'delete';
      await announceGroupTakeover(tx, [persisted.assignmentId]);
    } else if (persisted.displayChanged || persisted.action === 'reopened') {
      if (await requestBroadcastSync(tx, persisted.assignmentId, 'edit')) effects.sync = 'edit';
      // it became another job: the copies it left behind still advertise the old one
      if (duplicate.leftBehind.length > 0) effects.left_behind_queued = await announceLeftBehind(tx, persisted.assignmentId, duplicate.leftBehind);
      // it is (again) a copy of a job shown where it is shown too: one message per chat
      if (duplicate.groupId !== null && (await retireRedundantBroadcasts(tx, persisted.assignmentId)) > 0) effects.sync = 'delete';
    }
    const fresh = deps.now().getTime() - raw.message_date.getTime() <= config.assignments.sideEffectMaxAgeHours * 3_600_000;
    if (persisted.action === 'reopened' && persisted.status === 'open' && fresh) {
      const again = await reannounceBroadcasts(tx, persisted.assignmentId);
      if (again > 0) effects.broadcast = { queued: again };
    }
  }
  return effects;
}

function countLlm(items: HardenedItem[]): void {
  for (const item of items) {
    const m = (item.meta.extractor ?? {}) as {
      extractor?: string;
      model?: string;
      cache_hit?: boolean;
      usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
    };
    if (m.extractor !== 'llm') continue;
    metrics.llmCalls.inc({ model: m.model ?? 'unknown', reused: m.cache_hit ? 'yes' : 'no' });
    if (!m.cache_hit && m.usage) {
      metrics.llmTokens.inc({ kind: 'prompt' }, m.usage.prompt_tokens ?? 0);
      metrics.llmTokens.inc({ kind: 'completion' }, m.usage.completion_tokens ?? 0);
    }
  }
}

function suppressed(kind: 'broadcast' | 'dm', d: Decision): { suppressed: string } {
  if (d.send) return { suppressed: '' };
  metrics.suppressions.inc({ kind, reason: d.reason });
  return { suppressed: d.reason };
}

async function matchable(db: Queryable, assignmentId: number): Promise<MatchableAssignment> {
  const a = await loadMatchableAssignment(db, assignmentId);
  if (!a) throw new Error(`assignment ${assignmentId} disappeared before matching`);
  return a;
}
