/**
 * Status detection, generalised: the reference only read three opted-in channels; these label and marker rules apply
 * to every channel. An explicit status label wins; otherwise closed markers outrank the generic open marker ("New
 * Assignment").
 */
import { clip, lines } from './text.ts';

export type AssignmentStatus = 'open' | 'closed';
export interface StatusDetection {
  status: AssignmentStatus;
  rule: string;
  evidence: string;
  confidence: number;
}

const OPEN_WORDS = new Set(['open', 'opened', 'available', 'ongoing', 'active', 'reopened', 'still open']);
const CLOSED_WORDS = new Set(['closed', 'close', 'taken', 'filled', 'expired', 'unavailable', 'cancelled', 'canceled']);
const STATUS_WORD = String.raw`(still\s+open|open(?:ed)?|reopened|available|ongoing|active|closed?|taken|filled|expired|unavailable|cancell?ed)\b`;

/** "🔹Application Status: OPEN" (the whole line is the evidence). */
const APPLICATION_STATUS = new RegExp(String.raw`^[^\p{L}\p{N}]*application\s+status\s*[:：\-]\s*[^\p{L}\p{N}]{0,10}${STATUS_WORD}`, 'iu');
/** "Status: Closed", "Assignment status - taken", "Job status: ❌ filled". */
const STATUS_LINE = new RegExp(String.raw`^[^\p{L}\p{N}]*(?:assignment\s+|job\s+|current\s+)?status\s*[:：\-]\s*[^\p{L}\p{N}]{0,10}${STATUS_WORD}`, 'iu');
/** A line that is only the status word, maybe decorated: "TAKEN", "❌ CLOSED ❌", "Closed.". */
const BARE_STATUS_LINE = /^[^\p{L}\p{N}]*(closed|taken|filled|expired)[^\p{L}\p{N}]*$/iu;
const CLOSED_PHRASE =
  /\b(?:assignment|job|position|slot|case|this\s+one)\s+(?:has\s+been\s+|have\s+been\s+|is\s+|was\s+|already\s+)?(?:closed|taken|filled)\b/i;
const BRACKETED_CLOSED = /[[(](?:closed|taken|filled)[\])]/i;
// of the job, not of the student on some day ("student no longer available on Mondays" keeps the job open)
const NO_LONGER =
  /\b(?:assignment|job|position|slot|case|this|it)\s+(?:is\s+)?no\s+longer\s+(?:available|open)\b|^[^\p{L}\p{N}]*(?:(?:sorry|unfortunately)[^\p{L}\p{N}]+)?(?:(?:it|this)\s+is\s+|it's\s+)?no\s+longer\s+(?:available|open)\b/imu;
const NEW_ASSIGNMENT = /\bnew\s+assignments?\b/i;

/**
 * Words that keep a job open whatever else the text says: explicit status words only ("still available", "not
 * taken yet", "reopened") – not "looking for a tutor" or "apply now", which every post says and a "TAKEN" edit
 * leaves in place.
 */
const STILL_OPEN = /\b(still (available|open|looking|searching|vacant|needs? a tutor)|not (yet )?(taken|filled|closed)|re-?opened)\b/i;
/** A sentence about the agency's other jobs ("Apply now for our other assignments") says nothing of this one. */
const OTHER_JOBS = /[^.!?\n]*\bother (assignments?|jobs?|openings?|cases?)\b[^.!?\n]*/gi;

/** The text says this job is still open (a partial "Monday slot is taken, Wed still available" included). */
export function keepsJobOpen(text: string): boolean {
  return STILL_OPEN.test(text.replace(OTHER_JOBS, ' '));
}

function wordStatus(word: string): AssignmentStatus | null {
  const w = word.toLowerCase().replace(/\s+/g, ' ');
  if (OPEN_WORDS.has(w)) return 'open';
  return CLOSED_WORDS.has(w) ? 'closed' : null;
}

function labelled(all: string[], re: RegExp, rule: string, confidence: number): StatusDetection | null {
  for (const line of all) {
    const m = re.exec(line);
    const status = m ? wordStatus(m[1] ?? '') : null;
    if (status) return { status, rule, evidence: clip(line, 120), confidence };
  }
  return null;
}

function marker(text: string, all: string[]): StatusDetection | null {
  // a phrase anywhere in the text ("slot is taken") does not close a job the text calls still open
  if (keepsJobOpen(text)) return null;
  const bare = all.find((line) => BARE_STATUS_LINE.test(line));
  if (bare !== undefined) return { status: 'closed', rule: 'status_word_line', evidence: clip(bare, 120), confidence: 0.85 };
  const phrases: [RegExp, string, number][] = [
    [CLOSED_PHRASE, 'assignment_closed', 0.9],
    [BRACKETED_CLOSED, 'bracketed_closed', 0.85],
    [NO_LONGER, 'no_longer_available', 0.8],
  ];
  for (const [re, rule, confidence] of phrases) {
    const m = re.exec(text);
    if (m) return { status: 'closed', rule, evidence: clip(m[0], 120), confidence };
  }
  const open = NEW_ASSIGNMENT.exec(text);
  return open ? { status: 'open', rule: 'new_assignment', evidence: clip(open[0], 120), confidence: 0.75 } : null;
}

/** Open/closed from the post text, or null when the post says nothing about it. Never throws. */
export function detectStatus(rawText: unknown): StatusDetection | null {
  if (typeof rawText !== 'string' || rawText.trim() === '') return null;
  const text = rawText.length > 100_000 ? rawText.slice(0, 100_000) : rawText;
  const all = lines(text);
  return labelled(all, APPLICATION_STATUS, 'application_status', 0.95) ?? labelled(all, STATUS_LINE, 'status_line', 0.9) ?? marker(text, all);
}
