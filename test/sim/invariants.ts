/**
 * The invariants of a finished run, checked from the outside: what the fake Bot API received and what each chat
 * shows (its own record, not what TutorDex believes it sent), against the scenario's ground truth (which posts
 * are the same job, which were deleted, what an edited post says last). The database is read only for statuses
 * (nothing left unfinished; every open primary assignment sent or suppressed with a recorded reason) and to map
 * assignments and duplicate groups back to jobs (false merges).
 */
import type { Database } from '../../src/db/index.ts';
import type { FakeBotApi } from '../support/fake-bot-api.ts';
import type { BotProxy } from './bot-proxy.ts';
import { liveJobs, type Scenario } from './scenario.ts';

export const INVARIANTS = [
  /** a job shown twice in a broadcast channel, or DMed twice to one tutor (copies of one job count as one) */
  'duplicate_delivery',
  /** a job that still exists at its source is not shown in a broadcast channel (and no send of it is uncertain) */
  'missing_broadcast',
  /**
   * every post of a job was deleted, yet a broadcast channel still shows it (unless the message is an uncertain
   * send, no known message id, whose row carries the delete request for the operator)
   */
  'deleted_still_shown',
  /** a broadcast of an edited post shows its text before the edit */
  'edit_not_applied',
  /** a job pending/processing, a delivery pending/sending, or a broadcast edit/delete not done, after the final drain */
  'left_unfinished',
  /** an open primary assignment with neither a broadcast (sent/uncertain) nor a recorded suppression reason */
  'unexplained_unsent',
  /** a delivery ended failed (the simulation injects no permanent Bot API error) */
  'failed_delivery',
  /** a DM reached a tutor after `tutors remove` */
  'dm_after_tutor_removed',
  /** one assignment row stands for posts of different jobs */
  'false_merge',
  /** one duplicate group holds different jobs */
  'false_duplicate_group',
] as const;

export type Invariant = (typeof INVARIANTS)[number];
export type Violations = Record<Invariant, string[]>;

export interface Observed {
  bot: FakeBotApi;
  proxy: BotProxy;
  /** tutors removed during the run, with the assignments of their DMs that were mid-send at that moment */
  removed: { chatId: number; at: number; inFlight: number[] }[];
}

export interface Checked {
  violations: Violations;
  /** not violations: what a correct system may also do, counted */
  info: Record<string, number>;
}

/** Code (🆔 line) first, then the run-unique rate (💰 line). */
export function tracer(s: Scenario) {
  const byCode = new Map<string, number>();
  const byRate = new Map<number, number>();
  for (const j of s.jobs) {
    for (const c of j.codes) byCode.set(c.toUpperCase(), j.id);
    for (const r of j.rates) byRate.set(r, j.id);
  }
  return (text: string): { job: number | null; rate: number | null } => {
    const code = /🆔 ([^\n<]+)/.exec(text)?.[1]?.trim().toUpperCase() ?? null;
    const rateText = /💰 \$(\d+)/.exec(text)?.[1];
    const rate = rateText === undefined ? null : Number(rateText);
    const job = (code !== null ? byCode.get(code) : undefined) ?? (rate !== null ? byRate.get(rate) : undefined) ?? null;
    return { job, rate };
  };
}

export async function checkInvariants(s: Scenario, db: Database, o: Observed): Promise<Checked> {
  const v = Object.fromEntries(INVARIANTS.map((k) => [k, [] as string[]])) as Violations;
  const info: Record<string, number> = {};
  const note = (k: string) => (info[k] = (info[k] ?? 0) + 1);
  const trace = tracer(s);
  const live = liveJobs(s);
  const jobOf = (id: number) => s.jobs[id - 1]!;
  const postByMessage = new Map([...s.posts.values()].map((p) => [`${p.channel}#${p.messageId}`, p]));

  // ---- database: assignments → jobs, extraction outcomes, deliveries, suppressions
  const sources = await db.query<{ assignment_id: number; channel_link: string; message_id: number; item_key: string }>(
    `select s.assignment_id, r.channel_link, r.message_id, s.item_key from assignment_sources s join telegram_messages_raw r on r.id = s.raw_id`,
  );
  const jobsOfAssignment = new Map<number, Set<number>>();
  const assignmentsOfJob = new Map<number, Set<number>>();
  for (const row of sources) {
    const p = postByMessage.get(`${row.channel_link}#${Number(row.message_id)}`);
    if (!p) continue;
    const items = row.item_key === '' ? p.items : p.items.filter((i) => i.itemKey.toUpperCase() === row.item_key.toUpperCase());
    if (items.length === 0) note('unmapped_item_key');
    for (const i of items) {
      const a = Number(row.assignment_id);
      (jobsOfAssignment.get(a) ?? jobsOfAssignment.set(a, new Set()).get(a)!).add(i.job);
      (assignmentsOfJob.get(i.job) ?? assignmentsOfJob.set(i.job, new Set()).get(i.job)!).add(a);
    }
  }
  const assignments = await db.query<{ id: number; status: string; closed_reason: string | null; duplicate_group_id: number | null; is_primary: boolean }>(
    `select id, status, closed_reason, duplicate_group_id, is_primary from assignments order by id`,
  );
  const deliveries = await db.query<{
    id: number;
    assignment_id: number;
    kind: string;
    recipient: string;
    status: string;
    telegram_message_id: number | null;
    deleted_at: Date | null;
    sync_action: string | null;
    error_json: { type?: string } | null;
  }>(`select id, assignment_id, kind, recipient, status, telegram_message_id, deleted_at, sync_action, error_json from deliveries order by id`);
  const extractions = await db.query<{
    channel_link: string;
    message_id: number;
    status: string;
    error_type: string | null;
    effects: { assignment_id: number; broadcast: { queued?: number; suppressed?: string } }[] | null;
  }>(
    `select r.channel_link, r.message_id, e.status, e.error_json ->> 'type' as error_type, e.meta -> 'assignments' as effects
       from telegram_extractions e join telegram_messages_raw r on r.id = e.raw_id where e.pipeline_version = 'v1'`,
  );
  const suppressions = new Map<number, Set<string>>();
  for (const e of extractions) {
    for (const eff of e.effects ?? []) {
      if (eff.broadcast?.suppressed)
        (suppressions.get(Number(eff.assignment_id)) ?? suppressions.set(Number(eff.assignment_id), new Set()).get(Number(eff.assignment_id))!).add(
          eff.broadcast.suppressed,
        );
    }
  }
  // a job whose every post's extraction failed (e.g. the LLM stayed down past the budget) legitimately has nothing to show
  const extractionFailed = new Set<number>();
  {
    const okJobs = new Set<number>();
    const failedJobs = new Set<number>();
    for (const e of extractions) {
      const p = postByMessage.get(`${e.channel_link}#${Number(e.message_id)}`);
      if (!p) continue;
      for (const i of p.items) (e.status === 'failed' ? failedJobs : okJobs).add(i.job);
    }
    for (const j of failedJobs) if (!okJobs.has(j)) extractionFailed.add(j);
  }

  const describeJob = (job: number) => {
    const ids = [...(assignmentsOfJob.get(job) ?? [])];
    const parts = ids.map((id) => {
      const a = assignments.find((x) => Number(x.id) === id);
      const ds = deliveries
        .filter((d) => Number(d.assignment_id) === id && d.kind === 'broadcast')
        .map((d) => `${d.recipient}:${d.status}${d.deleted_at ? '(deleted)' : ''}${d.sync_action ? `(${d.sync_action} requested)` : ''}`);
      const sup = [...(suppressions.get(id) ?? [])];
      return `assignment ${id} ${a?.status ?? '?'}${a?.closed_reason ? `/${a.closed_reason}` : ''}${a?.duplicate_group_id ? ` group ${a.duplicate_group_id}${a.is_primary ? ' primary' : ''}` : ''} broadcasts [${ds.join(', ')}]${sup.length ? ` suppressed ${sup.join('/')}` : ''}`;
    });
    const posts = jobOf(job).posts.map((k) => {
      const p = s.posts.get(k)!;
      return `${p.label} ${p.channel}/${p.messageId}${p.deleted ? ' (deleted)' : ''}${p.editedText ? ' (edited)' : ''}`;
    });
    return `job ${job} [${posts.join('; ')}] → ${parts.length ? parts.join('; ') : 'no assignment'}`;
  };

  // ---- what the broadcast channels show
  for (const chat of s.broadcastChats) {
    const shown = o.bot.messages(chat);
    const byJob = new Map<number, { messageId: number; text: string }[]>();
    for (const m of shown) {
      const { job } = trace(m.text);
      if (job === null) {
        note('untraceable_message');
        continue;
      }
      byJob.set(job, [...(byJob.get(job) ?? []), { messageId: m.messageId, text: m.text }]);
    }
    const broadcastRows = (job: number) => {
      const ids = assignmentsOfJob.get(job) ?? new Set<number>();
      return deliveries.filter((d) => ids.has(Number(d.assignment_id)) && d.kind === 'broadcast' && d.recipient === chat);
    };
    for (const [job, messages] of byJob) {
      const texts = messages.map((m) => m.text);
      if (texts.length > 1) v.duplicate_delivery.push(`${chat} shows ${describeJobShort(s, job)} ${texts.length} times · ${describeJob(job)}`);
      if (!live.has(job)) {
        // A message whose send ended uncertain has no known message id, so the dispatcher cannot delete it: by
        // design the delete request waits on that row for an operator (`tutordex deliveries resolve`). Such a
        // message is exempt only when it is no sent row's message and every uncertain row of the job here carries
        // the request (sync_action 'delete'); an uncertain row without it is a lost request.
        const rows = broadcastRows(job);
        const uncertain = rows.filter((d) => d.status === 'uncertain');
        const unexplained = messages.filter((m) => {
          const own = rows.find((d) => d.telegram_message_id !== null && Number(d.telegram_message_id) === m.messageId);
          if (own && own.status !== 'uncertain') return true;
          return !(uncertain.length > 0 && uncertain.every((d) => d.sync_action === 'delete'));
        });
        if (unexplained.length === 0) note('deleted_uncertain_awaits_operator');
        else {
          const lost = uncertain.filter((d) => d.sync_action !== 'delete').map((d) => d.id);
          v.deleted_still_shown.push(
            `${chat} still shows ${describeJobShort(s, job)}${lost.length ? ` (uncertain deliveries ${lost.join(', ')} carry no delete request)` : ''} · ${describeJob(job)}`,
          );
        }
      }
      const j = jobOf(job);
      if (live.has(job) && j.edited) {
        // As for deletes: an uncertain message's edit waits on its row for the operator; exempt only when the
        // message is no sent row's and every uncertain row of the job here carries the edit request.
        const rows = broadcastRows(job);
        const uncertain = rows.filter((d) => d.status === 'uncertain');
        for (const m of messages) {
          const { rate } = trace(m.text);
          if (rate === j.finalRate) continue;
          const own = rows.find((d) => d.telegram_message_id !== null && Number(d.telegram_message_id) === m.messageId);
          if ((!own || own.status === 'uncertain') && uncertain.length > 0 && uncertain.every((d) => d.sync_action === 'edit')) {
            note('edit_uncertain_awaits_operator');
            continue;
          }
          v.edit_not_applied.push(`${chat} shows ${describeJobShort(s, job)} with rate $${rate}, edited to $${j.finalRate} · ${describeJob(job)}`);
        }
      }
    }
    for (const job of live) {
      if (byJob.has(job)) continue;
      if (extractionFailed.has(job)) {
        note('extraction_failed');
        continue;
      }
      const uncertain = [...(assignmentsOfJob.get(job) ?? [])].some((a) =>
        deliveries.some((d) => Number(d.assignment_id) === a && d.kind === 'broadcast' && d.recipient === chat && d.status === 'uncertain'),
      );
      if (uncertain) {
        note('uncertain_not_delivered');
        continue;
      }
      v.missing_broadcast.push(`${chat} does not show ${describeJobShort(s, job)} · ${describeJob(job)}`);
    }
  }

  // ---- DMs: what each tutor received
  const broadcastChats = new Set(s.broadcastChats);
  const dmCalls = o.bot.calls.filter((c) => c.method === 'sendMessage' && c.status === 200 && !broadcastChats.has(String(c.chatId)));
  const perTutorJob = new Map<string, number>();
  for (const c of dmCalls) {
    const { job } = trace(String(c.body.text ?? ''));
    if (job === null) continue;
    const key = `${String(c.chatId)}#${job}`;
    perTutorJob.set(key, (perTutorJob.get(key) ?? 0) + 1);
  }
  for (const [key, n] of perTutorJob) {
    if (n < 2) continue;
    const [chat, job] = key.split('#');
    v.duplicate_delivery.push(`tutor ${chat} got ${n} DMs for ${describeJobShort(s, Number(job))} · ${describeJob(Number(job))}`);
  }
  for (const r of o.removed) {
    for (const c of dmCalls.filter((x) => String(x.chatId) === String(r.chatId) && x.at > r.at)) {
      const { job } = trace(String(c.body.text ?? ''));
      if (job !== null && [...(assignmentsOfJob.get(job) ?? [])].some((a) => r.inFlight.includes(a))) continue;
      v.dm_after_tutor_removed.push(
        `tutor ${r.chatId} removed, then DMed ${((c.at - r.at) / 1000).toFixed(1)} s later (${job !== null ? describeJobShort(s, job) : 'untraced'}; not mid-send at the removal)`,
      );
    }
  }

  // ---- database statuses
  const unfinished = await db.query<{ what: string; n: number }>(
    `select 'job ' || status as what, count(*)::int as n from telegram_extractions where status in ('pending', 'processing') group by status
     union all select 'delivery ' || kind || ' ' || status, count(*)::int from deliveries where status in ('pending', 'sending') group by kind, status
     union all select 'broadcast ' || sync_action || ' not applied', count(*)::int from deliveries where sync_action is not null and status = 'sent' and deleted_at is null group by sync_action`,
  );
  for (const u of unfinished) v.left_unfinished.push(`${u.n} × ${u.what}`);
  for (const d of deliveries.filter((x) => x.status === 'failed'))
    v.failed_delivery.push(`delivery ${d.id} (${d.kind} to ${d.recipient}) failed: ${d.error_json?.type ?? '?'}`);

  for (const a of assignments) {
    if (a.status !== 'open' || (a.duplicate_group_id !== null && !a.is_primary)) continue;
    const id = Number(a.id);
    for (const chat of s.broadcastChats) {
      // a group is announced once: any member's broadcast in this chat covers its primary
      const members = a.duplicate_group_id === null ? [id] : assignments.filter((x) => x.duplicate_group_id === a.duplicate_group_id).map((x) => Number(x.id));
      const rows = deliveries.filter((d) => members.includes(Number(d.assignment_id)) && d.kind === 'broadcast' && d.recipient === chat);
      if (rows.some((d) => (d.status === 'sent' || d.status === 'uncertain') && d.deleted_at === null)) continue;
      const reasons = [...(suppressions.get(id) ?? []), ...rows.filter((d) => d.status === 'skipped' && d.error_json?.type).map((d) => d.error_json!.type!)];
      if (reasons.length > 0) {
        for (const r of new Set(reasons)) note(`open_primary_suppressed:${r}`);
        continue;
      }
      const jobs = [...(jobsOfAssignment.get(id) ?? [])];
      v.unexplained_unsent.push(
        `assignment ${id} (open primary, ${jobs.map((j) => describeJobShort(s, j)).join(', ') || 'no job'}) has no broadcast in ${chat} and no recorded reason; rows [${rows.map((d) => `${d.status}${d.deleted_at ? '(deleted)' : ''}`).join(', ')}]`,
      );
    }
  }

  // ---- false merges: one assignment or one duplicate group standing for different jobs
  for (const [a, jobs] of jobsOfAssignment) {
    if (jobs.size > 1) v.false_merge.push(`assignment ${a} stands for ${[...jobs].map((j) => describeJobShort(s, j)).join(' + ')}`);
  }
  const groups = new Map<number, Set<number>>();
  for (const a of assignments) {
    if (a.duplicate_group_id === null) continue;
    const g = Number(a.duplicate_group_id);
    for (const j of jobsOfAssignment.get(Number(a.id)) ?? []) (groups.get(g) ?? groups.set(g, new Set()).get(g)!).add(j);
  }
  for (const [g, jobs] of groups) {
    if (jobs.size > 1) v.false_duplicate_group.push(`duplicate group ${g} holds ${[...jobs].map((j) => describeJobShort(s, j)).join(' + ')}`);
  }
  return { violations: v, info };
}

function describeJobShort(s: Scenario, job: number): string {
  const j = s.jobs[job - 1]!;
  const what = j.fixture ? `fixture ${j.codes[0]}` : `${j.subject?.level} ${j.subject?.subject} @ ${j.area?.name} $${j.finalRate}`;
  return `job ${job} (${what})`;
}
