/**
 * Text normalisation: the deterministic time extractor and the support checks read this form. Every pattern is linear
 * (bounded quantifiers, no nested repetition).
 */

const DASHES = /[\u2012\u2013\u2014\u2212]/g;
/** Line separators other than LF (U+2028 and others) that would otherwise drift line offsets. */
const LINE_BREAKS = /\r\n|[\r\u2028\u2029\u0085\v\f]/g;
/** "2.30-5.30pm" / "4.30 - 6.30pm": the left time takes a colon too. */
const DOTTED_RANGE_START = /\b(\d{1,2})\.(\d{2})(?=[ ]{0,3}-[ ]{0,3}\d{1,2}\.\d{2}[ ]{0,3}[ap]m\b)/gi;
/** "7.30 pm" → "7:30pm" (case of am/pm kept). */
const DOTTED_TIME = /\b(\d{1,2})\.(\d{2})[ ]{0,3}([ap]m)\b/gi;
/** "sec3" → "sec 3", "P6" → "P 6"; "P6Math" is left alone by the trailing \b. */
const ACADEMIC_TOKEN = /\b(sec|s|jc|j|p|k|year)(\d{1,2})\b/gi;

export function normalizeText(text: unknown): string {
  if (typeof text !== 'string' || text.length === 0) return '';
  const s = text
    .replace(LINE_BREAKS, '\n')
    .replace(DASHES, '-')
    .replace(DOTTED_RANGE_START, '$1:$2')
    .replace(DOTTED_TIME, '$1:$2$3')
    .replace(ACADEMIC_TOKEN, '$1 $2')
    .replace(/\t/g, ' ');
  const lines = s.split('\n').map((line) => line.replace(/ {2,}/g, ' ').trim());
  return lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
