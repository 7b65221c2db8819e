/**
 * The scenario of one simulation run, built from its seed alone: agencies, posts (fixture posts and generated ones
 * in several agency styles), the ground truth of which posts are the same job, the timeline of source events
 * (posts, edits, deletes, re-posts, compilations, cross-agency copies, look-alikes, re-reads) and operator actions,
 * the tutors, the fault weather of the Bot API and the LLM, the workers and the kill points.
 *
 * Every job carries a tracer the harness can read back out of a rendered Telegram message: its assignment code
 * (`🆔 CODE`) and a rate no other job of the run has (`💰 $47/h`). An edit changes the rate to a fresh one, so a
 * message still showing the old rate is an edit that was not applied.
 */
import { createHash } from 'node:crypto';
import { extractRules, harden } from '../../src/extraction/index.ts';
import { EXAMPLES } from '../support/assignments.ts';
import { rng, type Rng } from './prng.ts';

export type Driver = 'pglite' | 'postgres';

export interface SimJob {
  id: number;
  /** codes as the extractor reads them, one per posting agency (copies have their own), upper case */
  codes: string[];
  /** every rate this job was ever posted with (an edit adds one) */
  rates: number[];
  /** the rate of its latest text */
  finalRate: number | null;
  /** fixture: a real agency post (traced by its code only) */
  fixture: boolean;
  subject: Subject | null;
  area: Area | null;
  /** posts and compilation items that stand for this job */
  posts: string[];
  /** an edit was scheduled: it gets no more posts (its final text is unambiguous) */
  edited: boolean;
}

export interface SimPost {
  key: string;
  agency: number;
  channel: string;
  /** Telegram message id, assigned in timeline order */
  messageId: number;
  text: string;
  /** jobs of this post in item order; itemKey as the worker stores it ('' for a single post) */
  items: { job: number; itemKey: string }[];
  label: PostLabel;
  deleted: boolean;
  editedText: string | null;
}

export type PostLabel = 'single' | 'fixture' | 'compilation' | 'compilation_nocode' | 'copy' | 'lookalike' | 'repost' | 'repost_after_delete';

export type SimEvent =
  | { kind: 'post'; post: string; at: number }
  /**
   * `trigger` 'on_send': the edit is made once a broadcast of the post has reached Telegram, and that send's
   * answer is held until the edit's job has finished (an edit while the broadcast is in flight); 'at' is then
   * only a fallback.
   */
  | { kind: 'edit'; post: string; text: string; at: number; trigger: 'time' | 'on_send' }
  /** `trigger` 'on_extract' (LLM mode): the post is deleted while the LLM is extracting it */
  | { kind: 'delete'; post: string; at: number; trigger: 'time' | 'on_extract' }
  /** the same, unchanged message read again (a catch-up overlap) */
  | { kind: 'reread'; post: string; at: number }
  /** an operator's forced reparse (`tutordex enqueue --force`) of one post */
  | { kind: 'force'; post: string; at: number }
  /** an operator's drain of the live version with side effects off (`tutordex worker --oneshot --no-broadcast --no-dms`) */
  | { kind: 'operator_drain'; at: number }
  /** `tutordex tutors remove` */
  | { kind: 'remove_tutor'; chatId: number; at: number };

export interface SimTutor {
  chatId: number;
  subjects: string[];
  levels: string[];
}

export type BotFault = 'ok' | 'slow' | 'reset' | 'gateway' | 'server' | 'flood' | 'refuse';
export type LlmFaultKind = 'ok' | 'delay' | 'timeout' | 'down';

export interface Weather {
  /** share of Bot API sends/edits/deletes that get a fault */
  botFaultRate: number;
  botWeights: Record<Exclude<BotFault, 'ok'>, number>;
  /** 429 retry_after range (seconds) */
  retryAfter: [number, number];
  /** how long a refusal lasts (ms) */
  refuseMs: [number, number];
  llmFaultRate: number;
  llmWeights: Record<Exclude<LlmFaultKind, 'ok'>, number>;
  /** 'delay' answers within the timeout after this many ms */
  llmDelayMs: [number, number];
}

export interface KillPoint {
  /** the nth faultable Bot API call (1-based, any worker) or the nth finished job */
  trigger: 'bot_call' | 'jobs_done';
  n: number;
  /** bot_call: the worker making the call is killed before its call is forwarded, or after (answer lost) */
  when: 'before_forward' | 'after_forward';
  /** jobs_done: which live worker (index modulo the live ones) */
  target: number;
}

export interface WorkerPlan {
  /** in-process worker services (worker + dispatcher) on the harness's database handle(s) */
  loops: number;
  /** Postgres only: `tutordex worker` child processes */
  children: number;
  concurrency: number;
  batchSize: number;
}

export interface Scenario {
  seed: number;
  driver: Driver;
  mode: 'llm' | 'rules';
  agencies: string[];
  broadcastChats: string[];
  tutors: SimTutor[];
  jobs: SimJob[];
  posts: Map<string, SimPost>;
  events: SimEvent[];
  weather: Weather;
  kills: KillPoint[];
  workers: WorkerPlan;
}

export interface Subject {
  level: string;
  subject: string;
  /** what a tutor profile says for it */
  tutorSubject: string;
  tutorLevel: string;
}

export interface Area {
  name: string;
  postal: string;
}

const SUBJECTS: Subject[] = [
  { level: 'P5', subject: 'Math', tutorSubject: 'Maths', tutorLevel: 'Primary' },
  { level: 'P3', subject: 'English', tutorSubject: 'English', tutorLevel: 'Primary' },
  { level: 'P6', subject: 'Science', tutorSubject: 'Science', tutorLevel: 'Primary' },
  { level: 'Sec 3', subject: 'Chemistry', tutorSubject: 'Chemistry', tutorLevel: 'Secondary' },
  { level: 'Sec 2', subject: 'Physics', tutorSubject: 'Physics', tutorLevel: 'Secondary' },
  { level: 'Sec 4', subject: 'A Math', tutorSubject: 'Maths', tutorLevel: 'Secondary' },
  { level: 'JC1', subject: 'Economics', tutorSubject: 'Economics', tutorLevel: 'Junior College' },
  { level: 'Sec 1', subject: 'Chinese', tutorSubject: 'Chinese', tutorLevel: 'Secondary' },
];

const AREAS: Area[] = [
  { name: 'Bedok North Ave 3', postal: '460123' },
  { name: 'Tampines St 81', postal: '520123' },
  { name: 'Jurong West St 42', postal: '640414' },
  { name: 'Clementi St 12', postal: '120105' },
  { name: 'Ang Mo Kio Ave 3', postal: '560123' },
  { name: 'Woodlands Dr 14', postal: '730123' },
  { name: 'Toa Payoh Lor 1', postal: '310123' },
  { name: 'Punggol Field', postal: '820123' },
  { name: 'Yishun Ring Rd', postal: '760123' },
  { name: 'Bukit Batok West Ave 6', postal: '650123' },
];

type Style = 'a' | 'b' | 'c';

/** One assignment in one agency's house style (b is the "reworded" one; c prints no code the extractor reads). */
function render(style: Style, s: Subject, area: Area, rate: number, code: string | null): string {
  if (style === 'a') {
    return [
      `Job Code: ${code}`,
      `Subject: ${s.level} ${s.subject}`,
      `Location: ${area.name} (S)${area.postal}`,
      `Rate: $${rate}/h`,
      'Frequency: 1x 1.5h/week',
    ].join('\n');
  }
  if (style === 'b') {
    return [
      `📚 ${s.level} ${s.subject} tutor needed`,
      `📍 ${area.name}, S${area.postal}`,
      `💰 $${rate} per hour`,
      '🗓 Once a week, 1.5 hours',
      `Ref: ${code}`,
    ].join('\n');
  }
  return [
    `🆕 NEW ASSIGNMENT`,
    `Level & Subject: ${s.level} ${s.subject}`,
    `Address: ${area.name}, ${area.postal}`,
    `Fee: $${rate}/hr`,
    'Lessons: 2x a week, 1h each',
    'Apply at t.me/simapplybot',
  ].join('\n');
}

const HEADERS = ['📢 Latest assignments', '🔥 Hot jobs today', 'New tuition assignments below'];
const FOOTER = 'Apply via @SimAgencyBot or WhatsApp 91234567';

/** The specific levels and subject codes the product reads in a post. */
function jobKey(text: string): { levels: string[]; subjects: string[] } {
  const h = harden(extractRules(text, null), text, null);
  return { levels: h.signals?.specific_student_levels ?? [], subjects: h.signals?.subjects_canonical ?? [] };
}

/**
 * Fixture posts with a code the extractor reads, leaving out any that shares a specific level and a subject
 * with a generated job: such a fixture placed only by area name is, to anyone, possibly the same job as a
 * generated one there, and the product may rightly group them (a false false_duplicate_group, seeds 100, 101).
 */
let pool: { text: string; code: string }[] | null = null;
function fixturePool(): { text: string; code: string }[] {
  pool ??= buildFixturePool();
  return [...pool];
}
function buildFixturePool(): { text: string; code: string }[] {
  const seen = new Set<string>();
  const out: { text: string; code: string }[] = [];
  const generated = SUBJECTS.map((s) => jobKey(render('a', s, AREAS[0]!, 50, 'S1A1000')));
  const overlaps = (a: string[], b: string[]) => a.some((x) => b.includes(x));
  for (const e of EXAMPLES) {
    const code = extractRules(e.raw, null).assignment_code?.trim().toUpperCase();
    if (!code || seen.has(code)) continue;
    const k = jobKey(e.raw);
    if (generated.some((g) => overlaps(g.levels, k.levels) && overlaps(g.subjects, k.subjects))) continue;
    seen.add(code);
    out.push({ text: e.raw, code });
  }
  return out;
}

export interface ScenarioOptions {
  driver: Driver;
  /** source posts (not counting edits/deletes/operator actions) */
  posts?: number;
}

export function buildScenario(seed: number, options: ScenarioOptions): Scenario {
  const r = rng(seed);
  const plan = r.fork('plan');
  const gen = r.fork('posts');
  const mode: 'llm' | 'rules' = plan.chance(0.7) ? 'llm' : 'rules';
  const agencyCount = plan.int(4, 7);
  const agencies = Array.from({ length: agencyCount }, (_, i) => `t.me/simagency${i + 1}`);
  const styles: Style[] = agencies.map((_, i) => (['a', 'b', 'c'] as const)[i % 3]!);
  const broadcastChats = plan.chance(0.5) ? ['@sim_feed'] : ['@sim_feed', '@sim_feed_b'];

  const tutorSubjects = [...new Set(SUBJECTS.map((s) => s.tutorSubject))];
  const tutors: SimTutor[] = Array.from({ length: plan.int(3, 6) }, (_, i) => ({
    chatId: 880_001 + i,
    subjects: plan.shuffle(tutorSubjects).slice(0, plan.int(2, 4)),
    levels: plan.shuffle(['Primary', 'Secondary', 'Junior College']).slice(0, plan.int(1, 3)),
  }));

  // every job's rate is unique in the run: it is how a rendered message is traced back to its job
  const rates = gen.shuffle(Array.from({ length: 180 }, (_, i) => 20 + i));
  let rateIndex = 0;
  const freshRate = () => rates[rateIndex++]!;
  let codeCounter = 0;
  const freshCode = (agency: number) => `S${agency + 1}${String.fromCharCode(65 + gen.int(0, 25))}${1000 + ++codeCounter}`;
  const fixtures = gen.shuffle(fixturePool());

  const jobs: SimJob[] = [];
  const posts = new Map<string, SimPost>();
  const events: SimEvent[] = [];
  const postTimes = new Map<string, number>();
  const postAt = (p: SimPost) => postTimes.get(p.key)!;
  const newJob = (fields: Partial<SimJob>): SimJob => {
    const job: SimJob = {
      id: jobs.length + 1,
      codes: [],
      rates: [],
      finalRate: null,
      fixture: false,
      subject: null,
      area: null,
      posts: [],
      edited: false,
      ...fields,
    };
    jobs.push(job);
    return job;
  };
  const addPost = (agency: number, text: string, items: { job: SimJob; itemKey: string }[], label: PostLabel, at: number): SimPost => {
    const p: SimPost = {
      key: `p${posts.size + 1}`,
      agency,
      channel: agencies[agency]!,
      messageId: 0,
      text,
      items: items.map((i) => ({ job: i.job.id, itemKey: i.itemKey })),
      label,
      deleted: false,
      editedText: null,
    };
    posts.set(p.key, p);
    postTimes.set(p.key, at);
    for (const i of items) i.job.posts.push(p.key);
    events.push({ kind: 'post', post: p.key, at });
    return p;
  };
  const codeFor = (style: Style, agency: number) => (style === 'c' ? null : freshCode(agency));
  // Two different jobs never share (level, subject, place): agencies posting the same specific level and subject
  // at the same postal code at the same time are posting one job, and the product rightly groups such posts (see
  // duplicateMatch). Each generated job takes a tuple no other job has; a copy or re-post reuses its job's.
  const takenTuples = new Set<string>();
  const tupleKey = (subject: Subject, area: Area) => `${subject.level}|${subject.subject}|${area.postal}`;
  const freshTuple = (only?: { subject: Subject; notArea: Area | null }): { subject: Subject; area: Area } | null => {
    const free = (only ? [only.subject] : SUBJECTS).flatMap((subject) =>
      AREAS.filter((area) => area !== only?.notArea && !takenTuples.has(tupleKey(subject, area))).map((area) => ({ subject, area })),
    );
    if (free.length === 0) return null;
    const tuple = gen.pick(free);
    takenTuples.add(tupleKey(tuple.subject, tuple.area));
    return tuple;
  };
  const synthetic = (agency: number, at: number, label: PostLabel, tuple: { subject: Subject; area: Area } | null): SimPost | null => {
    if (!tuple) return null;
    const { subject, area } = tuple;
    const rate = freshRate();
    const code = codeFor(styles[agency]!, agency);
    const job = newJob({ codes: code ? [code.toUpperCase()] : [], rates: [rate], finalRate: rate, subject, area });
    return addPost(agency, render(styles[agency]!, subject, area, rate, code), [{ job, itemKey: '' }], label, at);
  };

  const total = options.posts ?? gen.int(22, 34);
  let t = 0;
  let made = 0;
  while (made < total) {
    t += gen.int(30, 350);
    const agency = gen.int(0, agencyCount - 1);
    const kind = gen.weighted({ single: 30, fixture: 20, compilation: 8, compilation_nocode: 8, copy: 16, lookalike: 10, repost: 8 });
    const singles = [...posts.values()].filter((p) => p.items.length === 1 && (p.label === 'single' || p.label === 'lookalike'));
    made++;
    if (kind === 'fixture' && fixtures.length > 0) {
      const f = fixtures.pop()!;
      const job = newJob({ codes: [f.code], fixture: true });
      addPost(agency, f.text, [{ job, itemKey: '' }], 'fixture', t);
    } else if (kind === 'compilation' || kind === 'compilation_nocode') {
      const n = gen.int(2, 3);
      const items: { job: SimJob; itemKey: string; text: string }[] = [];
      for (let i = 0; i < n; i++) {
        const tuple = freshTuple();
        if (!tuple) break;
        const { subject, area } = tuple;
        const rate = freshRate();
        if (kind === 'compilation') {
          const code = freshCode(agency);
          const job = newJob({ codes: [code.toUpperCase()], rates: [rate], finalRate: rate, subject, area });
          items.push({ job, itemKey: code, text: render('a', subject, area, rate, code) });
        } else {
          const job = newJob({ rates: [rate], finalRate: rate, subject, area });
          items.push({
            job,
            itemKey: String(i + 1),
            text: `${i + 1}. ${subject.level} ${subject.subject} @ ${area.name.split(' ').slice(0, 2).join(' ')}, $${rate}/h, 1x 1.5h/week`,
          });
        }
      }
      if (items.length === 0) continue;
      const body = kind === 'compilation' ? items.map((i) => i.text).join('\n\n') : items.map((i) => i.text).join('\n');
      addPost(agency, `${gen.pick(HEADERS)}\n\n${body}\n\n${FOOTER}`, items, kind, t);
    } else if (kind === 'copy' && singles.length > 0) {
      // the same job from another agency, reworded in that agency's style, posted at once (a race) or a little later;
      // only from an agency that has not posted it yet (one agency's two posts under two codes are two jobs to
      // anyone – the product never groups one agency's assignments – while its re-post keeps its text: 'repost')
      const original = gen.pick(singles);
      const job = jobs[original.items[0]!.job - 1]!;
      const postedBy = new Set(job.posts.map((k) => posts.get(k)!.agency));
      const fresh = agencies.map((_, i) => i).filter((i) => !postedBy.has(i));
      if (job.edited || !job.subject || !job.area || fresh.length === 0) continue;
      const other = gen.pick(fresh);
      const code = codeFor(styles[other]!, other);
      if (code) job.codes.push(code.toUpperCase());
      const at = gen.chance(0.5) ? postAt(original) + gen.int(0, 120) : t;
      addPost(other, render(styles[other]!, job.subject, job.area, job.finalRate!, code), [{ job, itemKey: '' }], 'copy', at);
    } else if (kind === 'lookalike' && singles.length > 0) {
      // a different job that looks alike: same subject and level, another place (one no job of that subject and
      // level has yet) and rate
      const like = jobs[gen.pick(singles).items[0]!.job - 1]!;
      if (!like.subject) continue;
      synthetic(gen.int(0, agencyCount - 1), t, 'lookalike', freshTuple({ subject: like.subject, notArea: like.area }));
    } else if (kind === 'repost' && singles.length > 0) {
      const original = gen.pick(singles);
      const job = jobs[original.items[0]!.job - 1]!;
      if (job.edited) continue;
      addPost(original.agency, original.text, [{ job, itemKey: '' }], 'repost', t + gen.int(500, 2500));
    } else {
      synthetic(agency, t, 'single', freshTuple());
    }
  }

  // follow-ups on posts made so far: edits, deletes (some followed by a re-post), re-reads, operator actions
  const ev = r.fork('followups');
  for (const p of [...posts.values()]) {
    const job = jobs[p.items[0]!.job - 1]!;
    const single = p.items.length === 1 && !job.fixture;
    if (single && job.posts.length === 1 && !job.edited && ev.chance(0.35)) {
      // an edit: the rate changes (soon after the post, so it can race the extraction or the broadcast)
      const rate = freshRate();
      const text = p.text.replace(`$${job.finalRate}`, `$${rate}`);
      job.rates.push(rate);
      job.finalRate = rate;
      job.edited = true;
      p.editedText = text;
      events.push({ kind: 'edit', post: p.key, text, at: postAt(p) + ev.int(50, 1500), trigger: ev.chance(0.5) ? 'on_send' : 'time' });
    } else if (ev.chance(0.14)) {
      const at = postAt(p) + ev.int(30, 2000);
      p.deleted = true;
      events.push({ kind: 'delete', post: p.key, at, trigger: mode === 'llm' && ev.chance(0.4) ? 'on_extract' : 'time' });
      if (single && !job.edited && ev.chance(0.3)) {
        addPost(p.agency, p.text, [{ job, itemKey: '' }], 'repost_after_delete', at + ev.int(400, 2000));
      }
    } else if (ev.chance(0.08)) {
      events.push({ kind: 'reread', post: p.key, at: postAt(p) + ev.int(100, 3000) });
    }
  }
  const last = Math.max(...events.map((e) => e.at));
  const keys = [...posts.keys()];
  if (ev.chance(0.5)) events.push({ kind: 'force', post: ev.pick(keys), at: ev.int(0, last) });
  if (ev.chance(0.4)) events.push({ kind: 'operator_drain', at: ev.int(Math.floor(last / 4), last) });
  if (ev.chance(0.4)) events.push({ kind: 'remove_tutor', chatId: ev.pick(tutors).chatId, at: ev.int(Math.floor(last / 4), last) });
  events.sort((a, b) => a.at - b.at || order(a) - order(b));

  // Telegram message ids grow with time, per channel
  const nextId = new Map<string, number>();
  for (const e of events) {
    if (e.kind !== 'post') continue;
    const p = posts.get(e.post)!;
    const id = (nextId.get(p.channel) ?? 100) + 1;
    nextId.set(p.channel, id);
    p.messageId = id;
  }

  const w = r.fork('weather');
  const calm = w.chance(0.1);
  const weather: Weather = {
    botFaultRate: calm ? 0.08 : w.next() * 0.25 + 0.1,
    botWeights: { slow: w.int(1, 4), reset: w.int(1, 4), gateway: w.int(1, 3), server: w.int(1, 3), flood: w.int(1, 4), refuse: w.int(0, 2) },
    retryAfter: [1, w.int(2, 5)],
    refuseMs: [300, w.int(800, 2500)],
    llmFaultRate: mode === 'llm' ? w.next() * 0.3 + 0.1 : 0,
    llmWeights: { delay: w.int(3, 6), timeout: w.int(0, 2), down: w.int(1, 3) },
    llmDelayMs: [200, w.int(600, 1500)],
  };

  const k = r.fork('kills');
  const workers: WorkerPlan =
    options.driver === 'postgres'
      ? { loops: k.int(1, 2), children: k.int(1, 2), concurrency: k.int(2, 4), batchSize: k.int(2, 6) }
      : { loops: k.int(2, 3), children: 0, concurrency: k.int(2, 4), batchSize: k.int(2, 6) };
  // the first kill point is always on finished jobs, so every run kills at least once
  const kills: KillPoint[] = Array.from({ length: k.int(2, 4) }, (_, i) =>
    i > 0 && k.chance(0.6)
      ? { trigger: 'bot_call' as const, n: k.int(3, 40), when: k.chance(0.5) ? ('before_forward' as const) : ('after_forward' as const), target: 0 }
      : { trigger: 'jobs_done' as const, n: k.int(2, Math.max(3, Math.floor(total * 0.8))), when: 'before_forward' as const, target: k.int(0, 5) },
  );

  return { seed, driver: options.driver, mode, agencies, broadcastChats, tutors, jobs, posts, events, weather, kills, workers };
}

function order(e: SimEvent): number {
  return e.kind === 'post' ? 0 : e.kind === 'edit' ? 1 : e.kind === 'delete' ? 2 : 3;
}

/** A job is live at the end when at least one post standing for it still exists. */
export function liveJobs(s: Scenario): Set<number> {
  const live = new Set<number>();
  for (const p of s.posts.values()) if (!p.deleted) for (const i of p.items) live.add(i.job);
  return live;
}

/** A short digest of everything the seed decided: two runs of one seed print the same one. */
export function scenarioDigest(s: Scenario): string {
  const { seed, driver, mode, agencies, broadcastChats, tutors, jobs, events, weather, kills, workers } = s;
  const body = JSON.stringify({ seed, driver, mode, agencies, broadcastChats, tutors, jobs, posts: [...s.posts.values()], events, weather, kills, workers });
  return createHash('sha256').update(body).digest('hex').slice(0, 12);
}

export function describeScenario(s: Scenario): string {
  const labels = new Map<string, number>();
  for (const p of s.posts.values()) labels.set(p.label, (labels.get(p.label) ?? 0) + 1);
  const kinds = new Map<string, number>();
  for (const e of s.events) if (e.kind !== 'post') kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
  return `scenario ${scenarioDigest(s)} · posts ${s.posts.size} ${JSON.stringify(Object.fromEntries(labels))} · events ${JSON.stringify(Object.fromEntries(kinds))} · kills planned ${s.kills.length} · workers ${JSON.stringify(s.workers)}`;
}

export type { Rng };
