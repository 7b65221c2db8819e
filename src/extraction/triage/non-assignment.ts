/**
 * Non-assignment detection (docs/extraction.md, "Triage"): posts that are not a tuition
 * assignment and must not reach the extractor. Pure function of the text; never throws.
 *
 * Checked in order, first hit wins:
 *  1. status_only   — a bare "CLOSED" / "Assignment taken" notice (very short, no details).
 *  2. redirect      — "reposted below", "see above", "refer to previous message".
 *  3. administrative — agency notices; also "promotional list" teasers (✅ bullets / repeated "apply now").
 *  4. promotional   — referral / incentive / sign-up / testimonial / course ads.
 *  5. tutor_profile — a tutor advertising themselves.
 *  6. redirect      — a short "DM us / check our channel" with no subject, rate or code of its own.
 * Types 3–5 are never returned when the text carries strong assignment evidence (evidence.ts), except the
 * promotional-list case which keeps the reference's own guard (fewer than 3 markers / labelled field lines).
 *
 * Fixes relative to the reference:
 *  - decorated / punctuated status notices ("⛔️ Assignment Closed ⛔️", "CLOSED!", "Closed.",
 *    "Assignment 123 closed", "Assignment closed⏎Thank you") are status_only.
 *  - the "S$/SGD <n> incentive" pattern works (as promotional).
 *  - the type is the plain value ("status_only"), never "MessageType.STATUS_ONLY".
 *  - promotional posts and tutor profiles are detected.
 */
import { assignmentEvidence, hasStrongAssignmentEvidence, type AssignmentEvidence } from './evidence.ts';
import { nonEmptyLines, normalizeNewlines } from './layout.ts';

export type NonAssignmentType = 'status_only' | 'redirect' | 'administrative' | 'promotional' | 'tutor_profile';

export interface NonAssignmentResult {
  isNonAssignment: boolean;
  type: NonAssignmentType | null;
  details: string;
}

const NOT: NonAssignmentResult = { isNonAssignment: false, type: null, details: '' };

const hit = (type: NonAssignmentType, details: string): NonAssignmentResult => ({ isNonAssignment: true, type, details });

/** "Very short": fewer than 3 non-empty lines or fewer than 50 characters. */
function isVeryShort(text: string): boolean {
  return nonEmptyLines(text).length < 3 || text.length < 50;
}

// ---------------------------------------------------------------- 1. status only

const STATUS_WORD = '(?:closed|taken|filled|expired|unavailable)';
/** One status line after decorations are stripped: "closed", "assignment closed", "assignment 123 has been taken", "status: closed". */
const STATUS_LINE_RE = new RegExp(
  `^(?:(?:assignment|job|case)(?:\\s+(?:code|id|no\\.?))?\\s*[:#]?\\s*(?:[a-z]{0,4}\\d{2,10}[a-z]{0,3}\\s+)?(?:(?:is|has\\s+been|was)\\s+)?(?:now\\s+)?${STATUS_WORD}|(?:application\\s+|assignment\\s+|job\\s+)?status\\s*:\\s*${STATUS_WORD}|${STATUS_WORD}(?:\\s+already)?)$`,
  'i',
);
/** Courtesy lines that may accompany a status notice. */
const COURTESY_LINE_RE =
  /^(?:thanks?(?:\s+you)?(?:\s+(?:all|everyone|tutors))?(?:\s+for\s+(?:applying|your\s+(?:interest|applications?)))?|thank\s+you(?:\s+(?:all|everyone|tutors))?(?:\s+for\s+(?:applying|your\s+(?:interest|applications?)))?|more\s+(?:assignments\s+)?coming\s+soon|stay\s+tuned|no\s+more\s+applications?(?:\s+please)?)$/i;

/** Strip emoji / punctuation decoration at both ends and collapse whitespace. */
function stripDecoration(line: string): string {
  return line
    .replace(/^[^\p{L}\p{N}]+/u, '')
    .replace(/[^\p{L}\p{N}]+$/u, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function detectStatusOnly(text: string, markers: number): NonAssignmentResult | null {
  if (!isVeryShort(text) || markers >= 2) return null;
  const lines = nonEmptyLines(text)
    .map(stripDecoration)
    .filter((l) => l !== '');
  if (lines.length === 0 || lines.length > 4 || text.length > 200) return null;
  const first = lines[0] ?? '';
  if (!STATUS_LINE_RE.test(first)) return null;
  if (!lines.slice(1).every((l) => COURTESY_LINE_RE.test(l) || STATUS_LINE_RE.test(l))) return null;
  return hit('status_only', `Status-only message: assignment closed/taken notice ("${first.slice(0, 60)}")`);
}

// ---------------------------------------------------------------- 2. redirect

const REDIRECT_PATTERNS: readonly [RegExp, string][] = [
  [/\b(?:has\s+been\s+)?reposted\s+(?:below|above)\b/i, 'reposted below/above'],
  [/\bassignment\s+\d+\s+has\s+been\s+reposted\b/i, 'assignment has been reposted'],
  [/\bsee\s+(?:the\s+)?(?:above|below|message\s+above|message\s+below|previous\s+(?:message|post)|next\s+(?:message|post))\b/i, 'see above/below'],
  [/\brefer\s+to\s+(?:the\s+)?(?:above|below|previous|next\s+message|post)\b/i, 'refer to above/below/previous'],
];
/** "DM us" style redirects: only when the post names no subject/level/rate of its own. */
const CONTACT_REDIRECT_RE =
  /\b(?:dm|pm|message|whatsapp|text|contact)\s+(?:us|me|admin|our\s+admin)\b|\bcheck\s+(?:out\s+)?our\s+(?:channel|website|page)\b|\bfull\s+(?:list|details)\s+(?:on|at|in)\s+our\b/i;

function detectRedirect(text: string, e: AssignmentEvidence): NonAssignmentResult | null {
  if (!isVeryShort(text) || e.markers >= 3) return null;
  // "Refer to previous post for address. P5 Science, $40/hr, Tues 6pm": the job is here, only a detail is elsewhere
  if (e.academic && (e.rate || e.schedule)) return null;
  for (const [re, label] of REDIRECT_PATTERNS) {
    if (re.test(text)) return hit('redirect', `Redirect/repost message: ${label}`);
  }
  return null;
}

/** Checked last (after administrative / promotional / tutor-profile): a short "DM us" with no details of its own. */
function detectContactRedirect(text: string, e: AssignmentEvidence): NonAssignmentResult | null {
  if (!isVeryShort(text) || e.markers >= 3 || text.length > 300 || !CONTACT_REDIRECT_RE.test(text)) return null;
  return !e.academic && !e.rate && !e.code ? hit('redirect', 'Redirect message: contact us for details') : null;
}

// ---------------------------------------------------------------- 3. administrative

const ADMIN_PATTERNS: readonly [RegExp, string][] = [
  [/\bcalling\s+all\s+tutors\b/i, 'calling all tutors'],
  [/\bnew\s+job\s+opportunities\b/i, 'new job opportunities'],
  [/\bmany\s+(?:tuition\s+)?job\s+opportunities\b/i, 'many job opportunities'],
  [/\bimportant\s+announcement\b/i, 'important announcement'],
  [/\bagency\s+(?:will\s+be\s+)?(?:closed|opening)\b/i, 'agency closed/opening'],
  [/\bdear\s+tutors\b/i, 'dear tutors'],
  [/\bwhatsapp\s+business\s+api\b/i, 'whatsapp business api'],
  [/\bnew\s+official\s+whatsapp\s+number\b/i, 'new official whatsapp number'],
  [/\bplease\s+save\s+(?:this\s+)?(?:our\s+)?new\s+number\b/i, 'please save new number'],
  [/\bwill\s+be\s+phased\s+out\b/i, 'will be phased out'],
  [/\blog\s?in\s+to\s+your\s+[^\n]{0,40}?\baccount\b/i, 'login to your account'],
  [/\bupdate\s+on\s+open\s+(?:&|and)\s+available\s+assignments\b/i, 'update on open & available assignments'],
  [/\bcurrently,?\s+\d+\s+assignments?\b/i, 'currently N assignments'],
  [/\bdo\s+not\s+have\s+the\s+time\s+to\s+scroll\b/i, 'do not have the time to scroll'],
  [/\bsend\s+the\s+suitable\s+assignments\b/i, 'send the suitable assignments'],
  [/\bdriving\s+in\s+singapore\b/i, 'driving in singapore'],
  [/\bsingaporeans?\s*\/\s*prs?\s+only\b/i, 'singaporean/PR only'],
  [/\b(?:office|operating|operation)\s+hours\b[^\n]{0,40}\b(?:public\s+holiday|closed|resume)/i, 'office hours notice'],
  [/\b(?:our\s+)?office\b[^\n]{0,60}\b(?:will\s+be\s+)?closed\b|\b(?:assignment\s+)?postings?\s+(?:will\s+)?resume\b/i, 'office closure notice'],
];

const STUDENT_NAMED_RE =
  /\b(?:we\s+have|there\s+is|got)\s+an?\s+[^.\n]{0,40}\b(?:student|boy|girl|child|kid|learner)\b|\b(?:p[1-6]|sec\s?[1-5]|jc\s?[12]|k[12])\b[^.\n]{0,40}\b(?:student|boy|girl|child|kid)\b/i;

function promotionalListStats(text: string): { applyNow: number; checks: number; bullets: number } {
  return {
    applyNow: (text.match(/\bapply\s+now\b/gi) ?? []).length,
    checks: (text.match(/✅/g) ?? []).length,
    bullets: (text.match(/•/g) ?? []).length,
  };
}

/** "7 new jobs today, check the channel": a round-up of teasers that point elsewhere, with no price or postal code of their own. */
const ROUNDUP_RE =
  /\b\d{1,3}\s+(?:new\s+|more\s+|fresh\s+)?(?:jobs|assignments|cases|openings)\s+(?:today|this\s+week|tonight|available|posted|added|just\s+in|are\s+up)\b|\bcheck\s+(?:out\s+)?(?:the|our)\s+(?:channel|website|page|list)\b/i;

const TEASER_LEVEL_RE = /\b(?:p[1-6]|pri(?:mary)?\s?[1-6]|sec(?:ondary)?\s?[1-5]|jc\s?[12]|k[12]|ib|igcse|poly|uni)\b/i;
/** Lines that each name a level: the jobs a round-up lists. */
const teaserLines = (text: string): number => nonEmptyLines(text).filter((l) => TEASER_LEVEL_RE.test(l)).length;

/** Short bulleted teasers ("✅ P4 Math @ Punggol") that all point to one apply link, with no time of their own. */
function teaserList(text: string): boolean {
  const bulleted = nonEmptyLines(text).filter((l) => /^[^\p{L}\p{N}\s]{1,3}\s*\S/u.test(l) && l.length <= 60);
  return bulleted.length >= 2 && /\bapply\b|https?:\/\/|t\.me\//i.test(text) && !/\b\d{1,2}(?::\d{2})?\s?(?:am|pm)\b|\b\d{1,2}[:.]\d{2}\b/i.test(text);
}

/** "Full details in our channel", "link in bio": the jobs themselves are posted elsewhere. */
const ELSEWHERE_RE = /\b(?:full\s+)?details\s+(?:in|on|at)\s+(?:our|the)\s+(?:channel|website|page)\b|\blink\s+in\s+(?:bio|description)\b/i;

function detectRoundup(text: string): NonAssignmentResult | null {
  // a round-up lists two jobs or more; "More jobs? Check out our channel" under one job is its footer
  if (teaserLines(text) < 2) return null;
  if (ROUNDUP_RE.test(text) && ELSEWHERE_RE.test(text)) return hit('administrative', 'Round-up or teaser list message: jobs listed elsewhere');
  if (!(ROUNDUP_RE.test(text) || teaserList(text)) || /\$\s?\d|\b\d{2,4}\s*\/\s*h(?:r|our)?\b|\b\d{6}\b/i.test(text)) return null;
  return hit('administrative', 'Round-up or teaser list message: teasers pointing elsewhere, no rate, time or postal code of their own');
}

function detectAdministrative(text: string, markers: number, fields: number, strong: boolean): NonAssignmentResult | null {
  const roundup = detectRoundup(text);
  if (roundup) return roundup;
  for (const [re, label] of ADMIN_PATTERNS) {
    if (!re.test(text)) continue;
    const s = promotionalListStats(text);
    const listy = s.applyNow >= 3 || s.checks >= 3 || s.checks + s.bullets >= 5;
    // A promotional list of one-line teasers; the reference's guard plus ours: no block of labelled fields.
    if (listy && markers < 3 && fields < 3) {
      return hit('administrative', `Promotional list message: ${label}, ${s.checks + s.bullets} bullets`);
    }
    // "Dear tutors, we have a P2 Chinese student at Punggol …", "IMPORTANT ANNOUNCEMENT: Parent needs a P1
    // English tutor", "log in … to apply for this job": the opener or the footer of a job, not a notice
    if (STUDENT_NAMED_RE.test(text) || SEEKING_TUTOR_RE.test(text) || /\b(?:this|the)\s+(?:job|assignment)\b/i.test(text)) continue;
    if (markers < 3 && !strong) return hit('administrative', `Administrative message: ${label}`);
  }
  return null;
}

// ---------------------------------------------------------------- 4. promotional

const PROMO_PATTERNS: readonly [RegExp, string][] = [
  [/(?:\bs\$|\bsgd\s?|\$)\s?\d{1,5}\s+(?:cash\s+)?(?:incentive|referral|reward|bonus|voucher)s?\b/i, 'S$/SGD N incentive'],
  [/\brefer\s+(?:a|your)\s+(?:friend|tutor|parent)s?\b/i, 'refer a friend'],
  [/\breferral\s+(?:bonus|reward|fee|programme|program|incentive)s?\b/i, 'referral programme'],
  [/\btestimonials?\b/i, 'testimonial'],
  [/\b(?:join|subscribe\s+to)\s+our\s+(?:telegram\s+)?(?:channel|group|community|mailing\s+list)\b/i, 'join our channel'],
  [/\bfollow\s+us\s+on\b/i, 'follow us'],
  [/\b(?:sign\s+up|register)\s+(?:now|today)\b/i, 'sign up now'],
  [/\blimited\s+(?:time\s+)?(?:offer|slots)\b/i, 'limited offer'],
  [/\b\d{1,2}\s?%\s+(?:off|discount)\b/i, 'discount'],
  [/\b(?:enrol|enroll)\s+(?:now|today)\b/i, 'enrol now'],
  [/\bgiveaway\b/i, 'giveaway'],
  [/\bfree\s+(?:tutor\s+)?matching\b/i, 'free matching'],
  [/\bour\s+tutors\s+(?:teach|cover|are|have)\b/i, 'our tutors teach'],
  [/\bregister\s+(?:at|on|via|through)\s+our\s+(?:website|portal|app|page)\b/i, 'register on our website'],
];

/** Recruiting tutors into an agency's pool: no job, however many subjects and rates it names. */
const RECRUITMENT_RE =
  /\b(?:we(?:'re|\s+are)\s+)?(?:hiring|recruiting)\s+(?:more\s+)?tutors\b|\bjoin\s+our\s+(?:tutor\s+)?(?:team|pool|network)\b|\bbecome\s+(?:one\s+of\s+)?our\s+tutors?\b/i;

/** Shapes no job post has, however many subjects and rates they name: offers to parents, their feedback, a centre's class. */
const PROMO_ALWAYS: readonly [RegExp, string][] = [
  [/\bdoes\s+your\s+(?:child|son|daughter|kid)\b|\bparents\s+who\s+sign\s+up\b|\b(?:first|1st)\s+lesson\s+(?:is\s+)?free\b/i, 'an offer to parents'],
  [/\bparents?\s+feedback\b|\breviews?\s+from\s+(?:our\s+)?parents\b/i, 'parent feedback'],
  // a centre's own class; "tutor needed at our centre" stays a job
  [/\bclass(?:es)?\s+at\s+our\b|\bsmall\s+group\b[^\n]{0,20}\b\d{1,2}\s+pax\b/i, 'a class at a centre'],
];

function detectPromotional(text: string, strong: boolean, hasCode: boolean): NonAssignmentResult | null {
  if (!hasCode && RECRUITMENT_RE.test(text) && !/\blooking\s+for\s+an?\b/i.test(text)) return hit('promotional', 'Promotional message: recruiting tutors');
  const always = hasCode ? undefined : PROMO_ALWAYS.find(([re]) => re.test(text));
  if (always) return hit('promotional', `Promotional message: ${always[1]}`);
  if (strong || hasCode) return null;
  for (const [re, label] of PROMO_PATTERNS) if (re.test(text)) return hit('promotional', `Promotional message: ${label}`);
  return null;
}

// ---------------------------------------------------------------- 5. tutor profile

const TUTOR_SELF_RE =
  /\b(?:i\s+am|i'm|i’m|im)\s+an?\s+(?:(?:full[-\s]?time|part[-\s]?time|ex[-\s]?moe|current\s+moe|moe|nie[-\s]?trained|experienced|certified|qualified|dedicated|passionate|patient|private|home|former|graduate|undergraduate|university|poly|jc|student|female|male|chinese|malay|indian|friendly|professional|trained)\s+){0,4}(?:tutor|teacher|educator|coach)\b/i;
/** "Tutor Profile" as a post's title, not "Tutor profile: full-timer" (a job's requirement) or "send us your tutor profile". */
const TUTOR_PROFILE_RE =
  /(?:^|\n)[^\p{L}\p{N}\n]*(?:my\s+)?tutor\s+profiles?\b[^:：\n]*(?:\n|$)|#tutorprofile\b|\b(?:i\s+am|i'm|i’m|im)\s+(?:currently\s+)?(?:looking\s+for|seeking|available\s+for)\s+(?:new\s+)?(?:tuition\s+)?(?:assignments|students|tutees|tuition\s+jobs)\b|\bmy\s+(?:teaching\s+)?(?:qualifications|experience|track\s+record)\s*(?:include|:)/iu;
/** A tutor offering lessons: "Teaching Sec 1-4 Math at $35/hr", "I teach P3-P6 Science", "Offering IB Chemistry lessons". */
const SELF_OFFER_RE =
  /(?:^|\n|[.!]\s)[^\p{L}\n]*(?:i\s+(?:teach|offer|provide|specialise\s+in|specialize\s+in)|(?:currently\s+)?(?:teaching|offering|providing))\s+(?:(?:p|sec|s|jc|k|primary|secondary|upper|lower|ib|igcse|ip|o|a|n)[\s-]?\d?\b|[\w&/-]+\s+(?:tuition|lessons|classes))/iu;
/** "Hi parents! SMU undergrad here, 3 yrs tutoring experience": a tutor writing to parents, not an agency to tutors. */
const SELF_INTRO_RE =
  /^[^\p{L}\n]*(?:hi|hello|hey|dear)\s+(?:all\s+)?parents\b[\s\S]{0,80}?\b(?:here|i\s+am|i'm|im|my\s+name)\b|^[^\p{L}\n]*(?:hi|hello|hey)[^\n]{0,20}?[,!]?\s*(?:[\p{L}]+\s+){1,3}here\b[^\n]{0,80}\b(?:experience|tutoring|teaching|taught)\b/iu;
/** A tutor (or an agency for one tutor) offering lessons, however the post is laid out. */
const TUTOR_OFFER: readonly [RegExp, string][] = [
  [/\btutor\s+(?:is\s+)?(?:looking|searching)\s+for\s+(?:an?\s+)?(?:new\s+)?(?:assignments?|students?|tutees?|jobs?)\b/i, 'a tutor looking for assignments'],
  [/\b(?:looking\s+for|taking\s+in|accepting)\s+(?:more\s+|new\s+)?(?:students|tutees)\b/i, 'a tutor taking students'],
  [
    /\b(?:[Ii]['’]m|[Ii]\s+am|[Ii]m)\s+[A-Z][a-z]+(?:\s[A-Z][a-z]+)?,\s+an?\b[^.\n]{0,80}\b(?:tutoring|teaching|tutor|teacher)\b/,
    'a tutor introducing themself',
  ],
  [/\b(?:featured|star)\s+tutor\b|\btutor\s+of\s+the\s+(?:week|month)\b|\bmeet\s+(?:mr|ms|mrs|mdm|miss|teacher)\b/i, 'an agency featuring one tutor'],
  [/\bexpected\s+rate\b[^\n]{0,40}\b(?:free|available)\b|\bcan\s+teach\s+(?:p\d|sec|jc|primary|secondary|all)\b/i, 'a tutor saying what they can teach'],
];
const CONTACT_ME_RE = /\b(?:dm|pm|contact|whatsapp|text|message|call|msg|ping)\s+me\b/i;
/** A parent or a coordinator asking for a tutor, in the first person. */
const SEEKING_TUTOR_RE =
  /\blooking\s+for\s+(?:an?\s+)?(?:\w+\s+){0,3}tutors?\b|\b(?:need|needs|require|requires|seeking)\s+(?:an?\s+)?(?:\w+\s+){0,2}tutors?\b|\bmy\s+(?:own\s+)?(?:son|daughter|child|kid|kids|children|boy|girl|client|student\s+is)\b|\btutor\s+(?:needed|wanted|required)\b/i;

/** "Tutor profile: Jane, NUS graduate …" is a profile; beside a job's fields it is the tutor the job asks for. */
const TUTOR_PROFILE_LABEL_RE = /\btutor\s+profile\s*[:：]/i;

/** "anyone knows if P5 tutors usually charge $40/hr?": a question to the group. */
const CHAT_QUESTION_RE = /^[^\p{L}\n]*(?:anyone|any\s?one|does\s+anyone|do\s+you\s+guys|is\s+it\s+normal|how\s+much\s+do)\b[^\n]*\?\s*$/iu;

function detectTutorProfile(text: string, hasCode: boolean, strong: boolean): NonAssignmentResult | null {
  if (hasCode) return null;
  // a "Tutor Profile" heading is the post's title only on its first line; further down it heads the tutor wanted
  const title = TUTOR_PROFILE_RE.exec(text);
  const titled = title !== null && (!strong || text.slice(0, title.index).trim() === '' || title[0].startsWith('#'));
  const labelled = TUTOR_PROFILE_LABEL_RE.exec(text);
  // "Tutor profile: Jane, NUS graduate …" opens a profile; below a lesson line it is the tutor the job wants
  if (titled || (!strong && labelled !== null && text.slice(0, labelled.index).trim() === ''))
    return hit('tutor_profile', 'Tutor profile: a tutor advertising themselves');
  if (SEEKING_TUTOR_RE.test(text)) return null;
  if (TUTOR_SELF_RE.test(text)) return hit('tutor_profile', 'Tutor profile: first-person tutor introduction');
  if (SELF_OFFER_RE.test(text) && CONTACT_ME_RE.test(text)) return hit('tutor_profile', 'Tutor profile: a tutor offering lessons, contact me');
  if (SELF_INTRO_RE.test(text)) return hit('tutor_profile', 'Tutor profile: a tutor introducing themself to parents');
  const offer = TUTOR_OFFER.find(([re]) => re.test(text));
  if (offer) return hit('tutor_profile', `Tutor profile: ${offer[1]}`);
  return null;
}

// ---------------------------------------------------------------- entry point

export function detectNonAssignment(text: string | null | undefined): NonAssignmentResult {
  try {
    if (typeof text !== 'string') return NOT;
    const t = normalizeNewlines(text).trim();
    if (t === '') return NOT;
    // computed once: markers, labelled field lines and the subject/detail evidence every detector below reads
    const evidence = assignmentEvidence(t);
    const markers = evidence.markers;
    const status = detectStatusOnly(t, markers);
    if (status) return status;
    const redirect = detectRedirect(t, evidence);
    if (redirect) return redirect;
    const strong = hasStrongAssignmentEvidence(evidence);
    const fields = evidence.fieldLines;
    if (CHAT_QUESTION_RE.test(t) && !evidence.code && nonEmptyLines(t).length <= 2) return hit('redirect', 'Chat: a question to the group, no job');
    return (
      detectAdministrative(t, markers, fields, strong) ??
      detectPromotional(t, strong, evidence.code) ??
      detectTutorProfile(t, evidence.code, strong) ??
      detectContactRedirect(t, evidence) ??
      NOT
    );
  } catch {
    return NOT;
  }
}
