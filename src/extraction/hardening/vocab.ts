/** Vocabulary shared by the fills and the validator (one label table for all fills, extraction_llm.md §8.4 #22). */

export const ONLINE_TERM = String.raw`(?:online|zoom|google\s?meet|teams|virtual|remote|skype|webcam)`;
/** "le on" is "lesson" with the s's eaten by a Telegram font. */
export const LESSON_WORD = String.raw`(?:lessons?|le\s?ons?|tuition|class(?:es)?)`;
export const F2F_TERM = String.raw`(?:face[\s-]?to[\s-]?face|f2f|physical|home|in[\s-]person|on[\s-]?site)`;
/** Label separators: colon, full-width colon, hyphen, en/em dash. */
export const SEP = String.raw`\s*[:：\-\u2013\u2014]`;

export const MODE_LABEL = String.raw`(?:learning\s+mode|lesson\s+mode|le\s?on\s+mode|mode|venue|location\s*/\s*area|location|platform)`;
export const ADDRESS_LABEL = String.raw`(?:address|addre|venue|location\s*/\s*area|location)`;
export const SCHEDULE_LABEL = String.raw`(?:lesson\s+frequency|lessons?\s+per\s+week|no\.?\s+of\s+lessons?(?:\s+per\s+week)?|no\.?\s+of\s+hours?\s+per\s+lesson|duration\s+per\s+lesson|lesson\s+duration|frequency|duration|schedule|timings?|time|lessons?)`;

export const ONLINE_RE = new RegExp(String.raw`\b${ONLINE_TERM}\b`, 'i');
export const F2F_RE = new RegExp(String.raw`\b${F2F_TERM}\b`, 'i');
