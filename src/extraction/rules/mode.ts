import { NEGATED_ONLINE_RE, onlineAcceptable, onlineOrPlace } from '../hardening/vocab.ts';
import { firstLabel, tidy, type Parsed } from './labels.ts';

export type Mode = 'Online' | 'Face-to-Face' | 'Hybrid';

const ONLINE = /\b(?:online|zoom|google meet|ms teams|virtual|remote(?:ly)?|webcam)\b/i;
const F2F =
  /\b(?:face[- ]to[- ]face|f2f|physical|in[- ]person|onsite|on-site|home (?:tuition|lessons?|classes?|tutors?|tutoring)|home[- ]based)\b|\bat\s+(?:the\s+)?(?:student|tutor|tutee|parent|client|family|their|his|her|my|our|your)(?:'s|s'|’s)?\s+(?:place|home|house|residence|condo|flat|studio|office)\b|\bat\s+home\b/i;
/** "Lessons will be at home", "tuition is held at the student's house": where the lesson happens. */
const LESSON_AT_HOME =
  /\b(?:lessons?|tuition|classes?|sessions?)\s+(?:will\s+be\s+|would\s+be\s+|can\s+be\s+|are\s+|is\s+|to\s+be\s+)?(?:held\s+|conducted\s+)?at\s+(?:the\s+)?(?:student'?s?'?\s+|tutee'?s\s+|tutor'?s?'?\s+|my\s+|our\s+|his\s+|her\s+|their\s+)?(?:home|house|place|residence|condo|flat|studio)\b|\b(?:lessons?|tuition|classes?)\s+(?:are|is|will\s+be)\s+home[- ]based\b/i;
/** A clause that is nothing but a mode ("F2F", "strictly face to face", "Format: in-person", "Physical only"). */
const BARE_MODE =
  /^(?:[\p{L} ]{1,24}[:：]\s*)?(?:(?:pls|please|kindly)\s+note\s*:?\s*)?(?:strictly|only|purely|prefer(?:ably|red)?)?\s*(?:online|zoom|f2f|face[- ]to[- ]face|physical|in[- ]person|hybrid|home tuition)(?:\s+(?:lessons?|classes?|tuition|sessions?|only|preferred|please|pls))*[.!]*$/iu;
/** After an online term: the clause is about how lessons happen ("online lessons", "online is fine"). */
const ONLINE_LESSON =
  /\b(?:online|zoom|virtual|remote)\b[^.,;\n]{0,40}?\b(?:lessons?|class(?:es)?|tuition|sessions?|is fine|is ok|is okay|possible|only|preferred|teaching)\b/i;
/** "lessons online on Zoom", "classes via Zoom". */
const LESSON_ONLINE =
  /\b(?:lessons?|classes?|tuition|sessions?)\s+(?:(?:to\s+be|will\s+be|are|is)\s+)?(?:online|via\s+(?:zoom|google\s+meet|teams)|on\s+zoom)\b/i;
const F2F_LESSON = /\b(?:face[- ]to[- ]face|f2f|physical|in[- ]person)\b[^.,;\n]{0,40}?\b(?:lessons?|class(?:es)?|tuition|sessions?|only|preferred)\b/i;
/** Mentions of the venue that state how lessons happen without an enum, e.g. "teach in tuition centre". */
const VENUE_ONLY = /\bteach(?:ing)?\s+(?:in|at)\s+(?:a\s+|the\s+)?tuition\s+cent(?:re|er)\b/i;
/** "Venue: Student's home, 8 Jalan …": the lesson place is a person's home. */
const HOME_PLACE = /^(?:at\s+)?(?:the\s+)?(?:student|tutee|family|client|parent)(?:'s|s'|’s)?\s+(?:home|place|house|condo|residence|flat)\b/i;
/** A bracketed tag like "[Physical]" states the mode as plainly as a label does. */
const BRACKET_TAG = /\[(physical|online|f2f|hybrid)\]/i;
/** "Looking for a Private Home Tutor": a tutor coming to the home. */
const HOME_TUTOR = /\b(?:private\s+)?home\s+tut(?:or|ion|oring)\b(?!s)/i;

function modeOf(snippet: string): Mode | null {
  if (/\bhybrid\b/i.test(snippet)) return 'Hybrid';
  snippet = snippet.replace(NEGATED_ONLINE_RE, '');
  const on = ONLINE.test(snippet);
  const f2f = F2F.test(snippet);
  if (on && f2f) return 'Hybrid';
  if (on) return 'Online';
  if (f2f) return 'Face-to-Face';
  return null;
}

/** What is left of a location once online and its connectives are gone still names a place. */
function placeBesideOnline(value: string): boolean {
  const rest = value
    .replace(NEGATED_ONLINE_RE, '')
    .replace(new RegExp(ONLINE.source, 'gi'), ' ')
    .replace(/\b(?:or|and|lessons?|only|also|possible|can|either|via|through|platform)\b|[/&,()+|.-]/gi, ' ')
    .trim();
  return /[\p{L}\p{N}]{3,}/u.test(rest);
}

/** Sentences / parentheticals of a line, the smallest units a mode statement is copied from. */
function snippets(line: string): string[] {
  const parens = [...line.matchAll(/\(([^()]{1,120})\)/g)].map((m) => m[1] ?? '');
  const sentences = line.split(/(?<=[.!?])\s+/);
  const clauses = sentences.flatMap((s) => s.split(/,\s+|\s+[|•·]\s+|\s+[-–—]\s+/));
  return [...parens, ...clauses, ...sentences].map((s) => s.replace(/(?:^|\s)#[\p{L}\p{N}_]+/gu, ' ').trim()).filter(Boolean);
}

export function extractMode(p: Parsed): { mode: Mode | null; raw_text: string | null } {
  const labelled = firstLabel(p, 'mode');
  if (labelled) return { mode: modeOf(labelled.value), raw_text: labelled.value };
  for (const l of p.labels) {
    if (l.kind === 'location' && HOME_PLACE.test(l.value) && !ONLINE.test(l.value))
      return { mode: 'Face-to-Face', raw_text: tidy(HOME_PLACE.exec(l.value)![0]) };
    if (l.kind !== 'location' || !ONLINE.test(l.value)) continue;
    // "Venue: 12 Jalan Kuras, S577700 / or online": a place beside online is either.
    return { mode: placeBesideOnline(l.value) ? 'Hybrid' : modeOf(l.value), raw_text: l.value };
  }
  const hasPlace = p.labels.some((l) => l.kind === 'location') || /\b\d{6}\b|(?:@|\bat)\s*[A-Z][a-z]{2,}/.test(p.lines.map((l) => l.clean).join(' '));
  let venueOnly: string | null = null;
  let homeTutor: string | null = null;
  for (const line of p.lines) {
    if (!line.clean) continue;
    for (const snippet of snippets(line.clean)) {
      const s = snippet.replace(NEGATED_ONLINE_RE, '').trim();
      if (!s) continue;
      const both = ONLINE.test(s) && F2F.test(s);
      // "Online or at Marine Parade" names its place; "online ok" needs one elsewhere in the post
      if (!both && (onlineOrPlace(s) || (hasPlace && onlineAcceptable(s))) && !/\bonly\b/i.test(s)) return { mode: 'Hybrid', raw_text: tidy(snippet) };
      if (both || ONLINE_LESSON.test(s) || LESSON_ONLINE.test(s) || F2F_LESSON.test(s) || BARE_MODE.test(s)) {
        return { mode: modeOf(s), raw_text: tidy(snippet) };
      }
      const tag = BRACKET_TAG.exec(s);
      if (tag) return { mode: modeOf(tag[1]!.replace(/^hybrid$/i, 'online f2f')), raw_text: tag[0] };
      venueOnly ??= VENUE_ONLY.exec(s)?.[0] ?? null;
      homeTutor ??= HOME_TUTOR.exec(s)?.[0] ?? LESSON_AT_HOME.exec(s)?.[0] ?? null;
    }
  }
  if (homeTutor) return { mode: 'Face-to-Face', raw_text: homeTutor };
  return { mode: null, raw_text: venueOnly };
}
