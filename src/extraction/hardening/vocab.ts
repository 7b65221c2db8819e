/** Vocabulary shared by the fills and the validator (one label table for all fills, so they read the same labels). */

export const ONLINE_TERM = String.raw`(?:online|zoom|google\s?meet|teams|virtual|remote|skype|webcam)`;
/** "le on" is "lesson" with the s's eaten by a Telegram font. */
export const LESSON_WORD = String.raw`(?:lessons?|le\s?ons?|tuition|class(?:es)?)`;
export const F2F_TERM = String.raw`(?:face[\s-]?to[\s-]?face|f2f|physical|home|in[\s-]person|on[\s-]?site|(?:at\s+)?(?:the\s+)?(?:student|tutor|tutee|family|client|their|his|her|my|our)(?:'s|’s)?\s+(?:place|house|residence|condo|flat|studio|office))`;
/** Label separators: colon, full-width colon, hyphen, en/em dash. */
export const SEP = String.raw`\s*[:：\-\u2013\u2014]`;

export const MODE_LABEL = String.raw`(?:learning\s+mode|lesson\s+mode|le\s?on\s+mode|mode|venue|location\s*/\s*area|location|platform)`;
export const ADDRESS_LABEL = String.raw`(?:address|addre|venue|location\s*/\s*area|location)`;
export const SCHEDULE_LABEL = String.raw`(?:lesson\s+frequency|lessons?\s+per\s+week|no\.?\s+of\s+lessons?(?:\s+per\s+week)?|no\.?\s+of\s+hours?\s+per\s+lesson|duration\s+per\s+lesson|lesson\s+duration|frequency|duration|schedule|timings?|time|lessons?)`;

export const ONLINE_RE = new RegExp(String.raw`\b${ONLINE_TERM}\b`, 'i');
export const F2F_RE = new RegExp(String.raw`\b${F2F_TERM}\b`, 'i');
/** Online offered beside an in-person lesson ("online is fine if tutor is not nearby", "Online OR at Tampines"): Hybrid. */
const ONLINE_ACCEPTABLE_RE =
  /\b(?:online|zoom)\b[^.;\n]{0,20}?\b(?:is fine|(?:is\s+)?ok(?:ay)?|also possible|possible|can be considered|acceptable|also can|can also)\b/i;
/** A place named beside online ("Online OR at Tampines", "Bishan or online"): case matters, a place is capitalised. */
const ONLINE_OR_PLACE_RE =
  /\b(?:[Oo]nline|ONLINE|[Zz]oom)\s+(?:or|OR|Or|\/)\s+(?:at\s+|@\s*)?(?:[A-Z][a-z]{2,}|(?:the\s+)?(?:student|tutor|client|family|my|our|your|his|her|their)(?:'s|s'|’s)?\s+(?:place|home|house|residence|condo|studio|office))|(?:\b[A-Z][a-z]{2,}|\b[Ss]?\d{6}\b|\))\s*,?\s*(?:or|OR|Or|\/)\s*(?:or\s+)?(?:[Oo]nline|ONLINE)\b|,\s*(?:or|OR)\s+(?:[Oo]nline|ONLINE)\b/;
export const onlineOrPlace = (text: string): boolean => ONLINE_OR_PLACE_RE.test(text);
/** "online is fine", "online ok": acceptable, but only hybrid where the post names a place elsewhere. */
export const onlineAcceptable = (text: string): boolean => ONLINE_ACCEPTABLE_RE.test(text);
export const onlineAsFallback = (text: string): boolean => onlineAcceptable(text) || onlineOrPlace(text);

/** "no online lessons", "not online": a negated online term says the opposite. */
export const NEGATED_ONLINE_RE =
  /\b(?:no|not|without|non)[-\s]+(?:online|zoom|virtual|remote)\b[^,.;\n]*|\b(?:not\s+keen\s+on|(?:does\s*n[o']?t|do\s*n[o']?t|doesnt|dont|won'?t)\s+(?:want|like|prefer)|no\s+need\s+for|not\s+(?:open|ok(?:ay)?)\s+(?:to|with)|against)\s+(?:(?:zoom|online|virtual)\s*\/\s*)?(?:online|zoom|virtual|remote)\b[^,.;\n]*|\b(?:online|zoom)\s*❌|\b(?:online|zoom|virtual|remote)(?:\s+lessons?)?\s+(?:is\s+|are\s+)?not\s+(?:preferred|possible|allowed|accepted|available|an\s+option|required)\b/gi;

/** Labels that open a post's remarks: the rules extractor reads them, the validator accepts remarks after them. */
export const REMARKS_LABELS: readonly string[] = [
  'remarks',
  'remark',
  'notes',
  'note',
  'additional remarks',
  'additional notes',
  'other details',
  'comments',
  'comment',
  'requirement',
  'requirements',
  'special request',
  'special requests',
  'additional info',
  'additional information',
  'other info',
  'others',
  'other remarks',
  'tutor requirements',
  'important notes',
  'more details',
  'extra info',
  'note to tutor',
  'notes to tutor',
  'additional requirements',
];
const escapeLabel = (l: string) => l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
/** A remarks label at a line start, allowing leading bullets/emoji. */
export const REMARKS_MARKER = new RegExp(
  String.raw`^[^\p{L}\p{N}]*(?:${[...REMARKS_LABELS]
    .sort((a, b) => b.length - a.length)
    .map(escapeLabel)
    .join('|')})\s*[:：]`,
  'iu',
);
