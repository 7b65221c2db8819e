/**
 * "Does this text look like a tuition assignment?" — cheap, deterministic evidence used by the
 * non-assignment detector (to never skip real assignments) and by the compilation splitter (to confirm items).
 */
import { findCodeOccurrences } from './codes.ts';

/** Assignment markers (lower-case substrings). */
export const ASSIGNMENT_MARKERS = [
  'job id:',
  'job code:',
  'assignment code:',
  'hourly rate:',
  '🔻',
  'lesson per week:',
  "student's gender:",
  'time:',
  'location/area:',
  'level and subject',
] as const;

export function markerCount(text: string): number {
  const lower = text.toLowerCase();
  let n = 0;
  for (const m of ASSIGNMENT_MARKERS) if (lower.includes(m)) n++;
  return n;
}

const FIELD_LABEL_RE =
  /^[^\p{L}\p{N}\n]{0,8}(?:level|subjects?|level\s*(?:and|&|\/)\s*subjects?|location|area|address|rates?|fees?|hourly\s+(?:rate|budget)|budget|salary|pay|frequency|duration|lessons?(?:\s+per\s+week)?|schedule|timing|timeslots?|time|days?(?:\s*(?:&|and)\s*time)?|availability|available\s+timing|student(?:'s|‘s|’s)?\s+gender|gender|preference|tutor\s+(?:type|category|preference|requirement)s?|requirements?|remarks?|start(?:\s+date)?|commission|job\s+(?:id|code|details)|assignment\s+code|code(?:\s+id)?)\s*[:：]/imu;

/** Lines that start (after bullets) with a typical assignment field label followed by ":". */
export function fieldLabelLines(text: string): number {
  let n = 0;
  for (const line of text.split('\n')) if (FIELD_LABEL_RE.test(line)) n++;
  return n;
}

const LEVEL_RE =
  /\b(?:(?:p|pri|primary|sec|secondary|s|k|n|jc|j|grade|year|yr|nursery|kindergarten|kindy)\s?[1-9]\b|(?:o|a|n|ip)[\s-]?levels?\b|\b(?:ib|igcse|ipc|psle|poly(?:technic)?|diploma|university|undergrad(?:uate)?|degree|preschool|pre-school|kindergarten|adult)\b)/i;

const SUBJECT_RE =
  /\b(?:math(?:s|ematics)?|e[\s-]?math|a[\s-]?math|english|science|chinese|higher\s+chinese|malay|tamil|hindi|physics|chemistry|chem|biology|bio|econ(?:s|omics)?|history|geography|geog|literature|lit|accounting|accounts|poa|phonics|abacus|piano|violin|guitar|music|art|drawing|coding|programming|python|java|computing|french|japanese|korean|german|spanish|gp|general\s+paper|social\s+studies|combined\s+science|creative\s+writing|swimming)\b/i;

const RATE_RE =
  /(?:\$\s?\d|\bs\$|\bsgd\b|\d\s?(?:\/|per\s)\s?(?:h|hr|hrs|hour)\b|\brates?\s*[:：]|\bfees?\s*[:：]|\btutor\s+to\s+quote\b|\bquote\s+(?:your\s+)?(?:best\s+)?rates?\b)/i;

const LOCATION_RE =
  /(?:\blocation\b|\baddress\b|\barea\b|\bmrt\b|\bblk\b|\bblock\s+\d|\bstreet\b|\bavenue\b|\bave\b|\broad\b|\brd\b|\bdrive\b|\bcrescent\b|\bonline\b|\bzoom\b|\bhome\s+tuition\b|\s@\s|[\p{L}\p{N})]\s?@[A-Z][a-z]+\b|\b\d{6}\b)/iu;

const SCHEDULE_RE =
  /(?:\b\d+(?:\.\d+)?\s?(?:h|hr|hrs|hours?|mins?|minutes?)\b|\b(?:once|twice|\d\s?x)\s*(?:a|per|\/)?\s*(?:week|wk)\b|\bper\s+week\b|\/\s?week\b|\blessons?\b|\bfrequency\b|\b(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day)?s?\b|\bweekdays?\b|\bweekends?\b)/i;

export interface AssignmentEvidence {
  academic: boolean;
  rate: boolean;
  location: boolean;
  schedule: boolean;
  code: boolean;
  markers: number;
  fieldLines: number;
}

export function assignmentEvidence(text: string): AssignmentEvidence {
  return {
    academic: LEVEL_RE.test(text) || SUBJECT_RE.test(text) || /\b(?:level|subjects?)\s*[:：(]/i.test(text),
    rate: RATE_RE.test(text),
    location: LOCATION_RE.test(text),
    schedule: SCHEDULE_RE.test(text),
    code: findCodeOccurrences(text).occurrences.length > 0,
    markers: markerCount(text),
    fieldLines: fieldLabelLines(text),
  };
}

/** How many of rate / location / schedule / code are present. */
export function detailKinds(e: AssignmentEvidence): number {
  return (e.rate ? 1 : 0) + (e.location ? 1 : 0) + (e.schedule ? 1 : 0) + (e.code ? 1 : 0);
}

/**
 * Strong evidence: the text is (or contains) a real assignment — it must never be skipped as a non-assignment.
 * ≥3 markers or labelled field lines, or a subject/level together with at least two details.
 */
export function hasStrongAssignmentEvidence(e: AssignmentEvidence): boolean {
  if (e.markers >= 3 || e.fieldLines >= 3) return true;
  return e.academic && detailKinds(e) >= 2;
}

/** One compilation item looks like an assignment: a subject/level plus at least one detail. */
export function looksLikeAssignment(text: string): boolean {
  const e = assignmentEvidence(text);
  if (e.academic && detailKinds(e) >= 1) return true;
  return e.fieldLines >= 3 && detailKinds(e) >= 2;
}
