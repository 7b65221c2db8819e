import { STREET } from './address.ts';
import { firstLabel, tidy, type Parsed } from './labels.ts';

/** Subject vocabulary and level tokens that mark a headline as the subject/level line. */
const SUBJECT_WORD =
  /\b(?:math|maths|mathematics|e-?maths?|a-?maths?|english|science|chinese|higher chinese|malay|tamil|hindi|japanese|korean|french|german|spanish|physics|chemistry|chem|biology|bio|economics|econs|accounting|poa|geography|geog|history|literature|general paper|computing|programming|coding|phonics|creative writing|piano|music|art|abacus|olympiad|humanities|social studies|statistics|calculus|engineering)\b/i;
const LEVEL_TOKEN =
  /\b(?:p[1-6]|pri(?:mary)?\s?[1-6]|sec(?:ondary)?\s?[1-5]|s[1-5]|jc\s?[12]|k[12]|n[12]|grade\s?\d{1,2}|year\s?\d{1,2}|y[1-6]|o\s?level|a\s?level|n\s?level|igcse|ib|ip|poly|psle|nursery|kindergarten|preschool|university)\b/i;

function isAcademic(s: string): boolean {
  return LEVEL_TOKEN.test(s) || SUBJECT_WORD.test(s);
}

/** Parentheticals that describe where/how lessons happen rather than the subject. */
const VENUE_PAREN = /\s*\((?:[^()]{0,60}\b(?:tuition cent(?:re|er)|online|physical|home|f2f|face[- ]to[- ]face)\b[^()]{0,60})\)/gi;
/** A trailing comma clause that states the lesson mode (", Online lessons only"). */
const MODE_CLAUSE = /,\s*(?:online|physical|home|f2f|face[- ]to[- ]face)\b[^,]{0,60}$/i;
const CODE_TAG = /\s*\(?#[A-Za-z]{0,6}\d[\w]{0,12}\)?/g;

function stripDecoration(s: string): string {
  return s.replace(/^[^\p{L}\p{N}(]+/u, '').replace(/[^\p{L}\p{N})\].]+$/u, '');
}

/** Turn a headline into its subject/level part: drop banners, "@ place", codes, prices, trailing descriptions. */
export function cleanHeadline(line: string): string {
  let v = stripDecoration(line.replace(CODE_TAG, ' '));
  v = v.replace(/^(?:new|urgent|repost(?:ed)?|latest)?\s*(?:tuition\s+)?(?:assignment|job)\s*(?:for|:|-)\s*/i, '');
  v = v.replace(/^(?:looking for|require|required|requires|need|needed|seeking|wanted)\b.{0,120}?\bto teach\s+/i, '');
  v = v.split(/\s@\s|\s\|\s/)[0] ?? v;
  // an address written on the headline, after " at " / " - " ("Sec 1 English at Tampines Avenue 4")
  const place = /\s(?:at|[-–])\s(.*)$/.exec(v);
  if (place && STREET.test(place[1]!)) v = v.slice(0, place.index);
  v = v.replace(CODE_TAG, ' ');
  v = v.split(/\s(?=(?:\$|S\$|SGD)\s?\d)/)[0] ?? v;
  v = v.split(/\s[-–]\s(?=[a-z])/)[0] ?? v;
  // "Sec 3 Maths - Good at algebra": what follows a dash and names no subject or level describes the student
  const dash = /\s[-–]\s(.*)$/.exec(v);
  if (dash && !isAcademic(dash[1]!)) v = v.slice(0, dash.index);
  v = v.replace(VENUE_PAREN, '').replace(MODE_CLAUSE, '');
  return tidy(stripDecoration(v));
}

/** The first line (among the first few) that reads like a subject/level headline; an "Info:" value counts. */
export function findHeadline(p: Parsed): string | null {
  const info = firstLabel(p, 'info');
  let seen = 0;
  for (let i = 0; i < p.lines.length && seen < 5; i++) {
    const line = p.lines[i];
    if (!line?.clean) continue;
    seen++;
    if (info && info.lineIndex === i) return info.value;
    if (/^[\p{L}][\p{L} &/'’().]{0,40}\s*[:：]/u.test(line.clean)) continue;
    if (isAcademic(line.clean)) return line.clean;
  }
  return info ? info.value : null;
}

export function extractAcademic(p: Parsed, headline: string | null): string | null {
  const labelled = firstLabel(p, 'levelSubject', 'subject', 'level');
  if (labelled) {
    const v = tidy(labelled.value.replace(CODE_TAG, ' ').replace(VENUE_PAREN, ''));
    if (v) return v;
  }
  if (headline) {
    const v = cleanHeadline(headline);
    if (v) return v;
  }
  return null;
}
