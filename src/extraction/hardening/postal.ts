/**
 * Singapore postal codes in free text, with false-positive guards: six digits not part of a longer digit run,
 * optionally prefixed by "S", "(S)", "S(" or "Singapore" (glued or spaced), in a real postal sector (01–82), and not
 * an id, price, phone fragment or range.
 */

const SIX_DIGITS = /\d{6}/g;
/** Words that, right before the digits, mean "this is an id / money / phone", not an address. */
const BAD_PREFIX =
  /(?:\$|#|(?<!singapore)\+\s?\d{0,3}|\bsgd|\bs\$|\bid|(?<!postal\s{0,3})\bcode|\bno\.?|\bref|\bjob|\bassignment|\btel|\bhp|\bphone|\bmobile|\bwhatsapp|\bcontact|\bcall|\bsms|\bnumber)\W{0,3}$/i;
const POSTAL_PREFIX = /(?:\bsingapore\+?|\(s\)|\bs\(|\bs)\s?$/i;

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

function isLetter(ch: string | undefined): boolean {
  return ch !== undefined && /\p{L}/u.test(ch);
}

export function validSector(code: string): boolean {
  const sector = Number(code.slice(0, 2));
  return sector >= 1 && sector <= 82;
}

function acceptedAt(text: string, start: number, end: number): boolean {
  if (isDigit(text[start - 1]) || isDigit(text[end])) return false;
  const after = text.slice(end, end + 2);
  if (isLetter(after[0]) || /^[-.,/]\d/.test(after)) return false;
  const before = text.slice(Math.max(0, start - 16), start);
  if (BAD_PREFIX.test(before)) return false;
  // A letter glued to the digits is only fine when it is the "S"/"Singapore" prefix.
  if (isLetter(text[start - 1]) && !POSTAL_PREFIX.test(before)) return false;
  return true;
}

/** Every accepted postal code in the text, de-duplicated, in order of appearance. */
export function findPostalCodes(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(SIX_DIGITS)) {
    const code = m[0];
    const start = m.index ?? 0;
    if (!found.has(code) && validSector(code) && acceptedAt(text, start, start + 6)) found.add(code);
  }
  return [...found];
}

/** One printed postal code ("S 642196", "(S)642196", "Singapore 642196") → its 6 digits, else null. */
export function canonicalPostalCode(value: string): string | null {
  const digits = value.replace(/\D/g, '');
  if (digits.length !== 6 || !validSector(digits)) return null;
  const letters = value.replace(/[^\p{L}]/gu, '').toLowerCase();
  return letters === '' || letters === 's' || letters === 'singapore' ? digits : null;
}
