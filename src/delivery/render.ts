import type { Queryable } from '../db/index.ts';
import type { InlineKeyboard } from './bot-client.ts';

/** Telegram's message limit. */
export const MAX_MESSAGE_LEN = 4096;
/** Remarks longer than this are middle-truncated. */
export const MAX_REMARKS_LEN = 800;

/** The fields of an assignment (and its agency) a broadcast or DM shows. */
export interface AssignmentForMessage {
  id: number;
  status: 'open' | 'closed' | 'expired';
  academicDisplayText: string | null;
  rateMin: number | null;
  rateMax: number | null;
  rateRawText: string | null;
  address: readonly string[];
  nearestMrt: readonly string[];
  postalCode: readonly string[];
  postalCodeEstimated: readonly string[];
  startDate: string | null;
  lessonSchedule: readonly string[];
  /** `time_availability.note`. */
  timeAvailabilityNote: string | null;
  assignmentCode: string | null;
  additionalRemarks: string | null;
  learningMode: string | null;
  postalCoordsEstimated: boolean;
  sourceLastSeen: Date | null;
  publishedAt: Date | null;
  /** Link to the source post (the "Open original post" button). */
  messageLink: string | null;
  agencyDisplayName: string | null;
  agencyChannelName: string | null;
  agencyChannelLink: string | null;
}

export interface FreshnessHours {
  greenHours: number;
  yellowHours: number;
  orangeHours: number;
}

export interface RenderOptions {
  kind: 'broadcast' | 'dm';
  /** DMs: the tutor's distance; no line when null/negative or the assignment is online. */
  distanceKm?: number | null;
  now: Date;
  freshness: FreshnessHours;
  /** Defaults to Telegram's 4096. */
  maxLength?: number;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

interface Line {
  text: string; // raw, unescaped
  bold?: boolean;
  prunable?: boolean;
  /** Lines that go with this one when it is pruned (the blank line before the source). */
  blankBefore?: boolean;
}

const uniq = (xs: readonly (string | null | undefined)[] | null | undefined): string[] => {
  const out: string[] = [];
  for (const x of xs ?? []) {
    const v = (x ?? '').trim();
    if (v && !out.includes(v)) out.push(v);
  }
  return out;
};

/** Middle-truncate by code points, keeping head and tail around `...`. */
export function middleTruncate(s: string, max: number): string {
  const cps = Array.from(s);
  if (cps.length <= max) return s;
  const keep = Math.max(0, max - 3);
  const head = Math.ceil(keep / 2);
  const tail = keep - head;
  return `${cps.slice(0, head).join('')}...${tail > 0 ? cps.slice(cps.length - tail).join('') : ''}`;
}

function formatRate(a: AssignmentForMessage): string | null {
  const raw = (a.rateRawText ?? '').trim();
  if (raw) return raw;
  const fmt = (n: number) => String(Math.trunc(n));
  const min = a.rateMin != null && Number.isFinite(a.rateMin) ? a.rateMin : null;
  const max = a.rateMax != null && Number.isFinite(a.rateMax) ? a.rateMax : null;
  if (min != null && max != null && fmt(min) !== fmt(max)) return `${fmt(min)}-${fmt(max)}`;
  if (min != null) return fmt(min);
  if (max != null) return fmt(max);
  return null;
}

/** 🟢/🟡/🟠/🔴 label from the age of the source post; null without a date. */
export function freshnessLabel(seen: Date | null, now: Date, f: FreshnessHours): string | null {
  if (!seen) return null;
  const hours = (now.getTime() - seen.getTime()) / 3_600_000;
  if (hours < f.greenHours) return '🟢 Likely open';
  if (hours < f.yellowHours) return '🟡 Probably open';
  if (hours < f.orangeHours) return '🟠 Uncertain';
  return '🔴 Likely closed';
}

function buildLines(a: AssignmentForMessage, o: RenderOptions): Line[] {
  const lines: Line[] = [];
  const title = (a.academicDisplayText ?? '').trim();
  lines.push({ text: title || 'Tuition Assignment', bold: true });
  const rate = formatRate(a);
  if (rate) lines.push({ text: `💰 ${rate}` });
  if (o.kind === 'dm') {
    const km = o.distanceKm;
    const online = (a.learningMode ?? '').trim().toLowerCase() === 'online';
    if (km != null && Number.isFinite(km) && km >= 0 && !online) {
      lines.push({ text: `📏 Distance: ~${km.toFixed(1)} km${a.postalCoordsEstimated ? ' (estimated)' : ''}` });
    }
  }
  const address = uniq(a.address);
  if (address.length) lines.push({ text: `📍 ${address.join(', ')}` });
  const mrt = uniq(a.nearestMrt);
  if (mrt.length) lines.push({ text: `🚇 ${mrt.join(', ')}` });
  const postal = uniq(a.postalCode);
  const postalEst = uniq(a.postalCodeEstimated);
  if (postal.length) lines.push({ text: `Postal: ${postal.join(', ')}` });
  else if (postalEst.length) lines.push({ text: `Postal (estimated): ${postalEst.join(', ')}` });
  if (o.kind === 'broadcast') {
    const label = freshnessLabel(a.sourceLastSeen ?? a.publishedAt, o.now, o.freshness);
    if (label) lines.push({ text: label });
  }
  const start = (a.startDate ?? '').trim();
  if (start) lines.push({ text: `🗓️ ${start}` });
  for (const item of uniq(a.lessonSchedule)) lines.push({ text: `📆 ${item}`, prunable: true });
  for (const l of (a.timeAvailabilityNote ?? '').split(/\r?\n/)) {
    if (l.trim()) lines.push({ text: `🕒 ${l.trim()}`, prunable: true });
  }
  const code = (a.assignmentCode ?? '').trim();
  if (code) lines.push({ text: `🆔 ${code}`, prunable: true });
  const remarks = (a.additionalRemarks ?? '').trim();
  if (remarks) lines.push({ text: `📝 ${middleTruncate(remarks, MAX_REMARKS_LEN)}`, prunable: true });
  const A = (a.agencyDisplayName ?? '').trim() || (a.agencyChannelName ?? '').trim() || 'Agency';
  const B = (a.agencyChannelName ?? '').trim() || (a.agencyChannelLink ?? '').trim();
  lines.push({ text: B && B !== A ? `🏷️ Source: ${A} | ${B}` : `🏷️ Source: ${A}`, prunable: true, blankBefore: true });
  return lines;
}

function join(lines: readonly Line[]): string {
  const out: string[] = [];
  for (const l of lines) {
    if (l.blankBefore) out.push('');
    const t = escapeHtml(l.text);
    out.push(l.bold ? `<b>${t}</b>` : t);
  }
  return out.join('\n');
}

/**
 * The HTML text of a broadcast or DM. Too long: prunable lines go first, from the bottom; then the longest line's
 * text is middle-truncated before escaping, so tags and entities are never cut.
 */
export function renderAssignment(a: AssignmentForMessage, o: RenderOptions): string {
  const limit = o.maxLength ?? MAX_MESSAGE_LEN;
  const lines = buildLines(a, o);
  let html = join(lines);
  for (let i = lines.length - 1; i >= 0 && html.length > limit; i--) {
    if (lines[i]!.prunable) {
      lines.splice(i, 1);
      html = join(lines);
    }
  }
  if (html.length <= limit) return html;
  // Cap every line's text at C code points (middle-truncated, before escaping); the largest C that fits wins.
  const capped = (c: number) => join(lines.map((l) => ({ ...l, text: middleTruncate(l.text, c) })));
  let lo = 4;
  let hi = Math.max(...lines.map((l) => Array.from(l.text).length));
  if (capped(lo).length > limit) {
    // A limit smaller than the skeleton: drop lines from the bottom until the rest fits.
    while (lines.length > 1 && capped(lo).length > limit) lines.pop();
    return capped(lo).length <= limit ? capped(lo) : '';
  }
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (capped(mid).length <= limit) lo = mid;
    else hi = mid - 1;
  }
  html = capped(lo);
  return html;
}

interface Row {
  id: number;
  status: 'open' | 'closed' | 'expired';
  academic_display_text: string | null;
  rate_min: string | number | null;
  rate_max: string | number | null;
  rate_raw_text: string | null;
  address: string[] | null;
  nearest_mrt: string[] | null;
  nearest_mrt_computed: string | null;
  postal_code: string[] | null;
  postal_code_estimated: string[] | null;
  start_date: string | null;
  lesson_schedule: string[] | null;
  time_availability: { note?: unknown } | null;
  assignment_code: string | null;
  additional_remarks: string | null;
  learning_mode: string | null;
  postal_coords_estimated: boolean | null;
  source_last_seen: Date | string | null;
  published_at: Date | string | null;
  message_link: string | null;
  agency_display_name: string | null;
  agency_telegram_channel_name: string | null;
  agency_channel_link: string | null;
}

const num = (v: string | number | null): number | null => (v == null ? null : Number.isFinite(Number(v)) ? Number(v) : null);
const date = (v: Date | string | null): Date | null => (v == null ? null : v instanceof Date ? v : new Date(v));

/** One assignment with its agency, ready for `renderAssignment`; null when it does not exist. */
export async function loadAssignmentForMessage(db: Queryable, assignmentId: number): Promise<AssignmentForMessage | null> {
  const [r] = await db.query<Row>(
    `select a.id, a.status, a.academic_display_text, a.rate_min, a.rate_max, a.rate_raw_text, a.address, a.nearest_mrt,
            a.nearest_mrt_computed, a.postal_code, a.postal_code_estimated, a.start_date, a.lesson_schedule,
            a.time_availability, a.assignment_code, a.additional_remarks, a.learning_mode, a.postal_coords_estimated,
            a.source_last_seen, a.published_at, a.message_link,
            g.agency_display_name, g.agency_telegram_channel_name, g.channel_link as agency_channel_link
       from assignments a left join agencies g on g.id = a.agency_id
      where a.id = $1`,
    [assignmentId],
  );
  if (!r) return null;
  const note = r.time_availability && typeof r.time_availability === 'object' ? r.time_availability.note : null;
  const mrt = (r.nearest_mrt ?? []).filter((x) => x?.trim());
  return {
    id: Number(r.id),
    status: r.status,
    academicDisplayText: r.academic_display_text,
    rateMin: num(r.rate_min),
    rateMax: num(r.rate_max),
    rateRawText: r.rate_raw_text,
    address: r.address ?? [],
    nearestMrt: mrt.length ? mrt : r.nearest_mrt_computed ? [r.nearest_mrt_computed] : [],
    postalCode: r.postal_code ?? [],
    postalCodeEstimated: r.postal_code_estimated ?? [],
    startDate: r.start_date,
    lessonSchedule: r.lesson_schedule ?? [],
    timeAvailabilityNote: typeof note === 'string' ? note : null,
    assignmentCode: r.assignment_code,
    additionalRemarks: r.additional_remarks,
    learningMode: r.learning_mode,
    postalCoordsEstimated: r.postal_coords_estimated === true,
    sourceLastSeen: date(r.source_last_seen),
    publishedAt: date(r.published_at),
    messageLink: r.message_link,
    agencyDisplayName: r.agency_display_name,
    agencyChannelName: r.agency_telegram_channel_name,
    agencyChannelLink: r.agency_channel_link,
  };
}

/** What the DM feedback buttons report; callback_data is `fb:<kind>:<assignmentId>` (handled by the bot). */
export const FEEDBACK_BUTTONS = [
  { kind: 'no', text: 'Not for me' },
  { kind: 'filled', text: 'Already filled' },
  { kind: 'scam', text: 'Looks like a scam' },
] as const;

export type FeedbackKind = (typeof FEEDBACK_BUTTONS)[number]['kind'];

/**
 * The inline keyboard of a message. Broadcasts: one "Open original post" button (none without a link). DMs: row 1
 * "Apply / open post" (when there is a link), row 2 the feedback callbacks `fb:no|filled|scam:<assignmentId>`.
 * `url` is the post link, or its click-tracking redirect.
 */
export function keyboardFor(kind: 'broadcast' | 'dm', assignmentId: number, url: string | null): InlineKeyboard | null {
  if (kind === 'broadcast') return url ? [[{ text: 'Open original post', url }]] : null;
  const feedback = FEEDBACK_BUTTONS.map((b) => ({ text: b.text, callback_data: `fb:${b.kind}:${assignmentId}` }));
  return url ? [[{ text: 'Apply / open post', url }], feedback] : [feedback];
}

/** The "Open original post" URL for a message link (`t.me/x/1` gets https://); null when unusable. */
export function buttonUrlFor(messageLink: string | null): string | null {
  const l = (messageLink ?? '').trim();
  if (!l) return null;
  if (/^https?:\/\//i.test(l)) return l;
  if (/^(t\.me|telegram\.me)\//i.test(l)) return `https://${l}`;
  return null;
}
