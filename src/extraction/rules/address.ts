import { firstLabel, stripLinks, tidy, type Parsed } from './labels.ts';

const ONLINE = /\b(?:online|zoom|virtual|remote)\b/i;
const POSTAL_FRAGMENT = /\(\s*[Ss]\s*\)\s*\d{6}|\(\s*(?:[Ss]\s*)?\d{6}\s*\)|\b[Ss]\s?\d{6}\b|\bSingapore\s*\d{6}\b|\b\d{6}\b/g;
/** Comma segments that give directions rather than the place: "near X", "bus 983", "8min to Y MRT", "(Holland MRT)". */
const TRANSPORT_SEGMENT = /^(?:near\b|nearby\b|bus(?:es)?\b|\d+\s*(?:min|mins|minutes)\b|walk|\(?[^,]*\b(?:mrt|lrt)\b)/i;

function cleanLocation(value: string): string {
  let v = stripLinks(value)
    .replace(POSTAL_FRAGMENT, ' ')
    .replace(/\(\s*\)/g, ' ');
  const segments = v.split(/\s*,\s*/);
  v = [segments[0], ...segments.slice(1).filter((s) => !TRANSPORT_SEGMENT.test(s.trim()))].join(', ');
  v = tidy(v);
  const wrapped = /^\(([^()]*)\)$/.exec(v);
  if (wrapped) v = tidy(wrapped[1] ?? '');
  return v;
}

/** "Tampines/East Coast" lists two places; "Blk 12/14" does not. */
function splitPlaces(v: string): string[] {
  const parts = v.split(/\s*\/\s*/);
  if (parts.length > 1 && parts.every((x) => x.length >= 3 && /^[\p{L}][\p{L} '.-]*$/u.test(x))) return parts;
  return [v];
}

/**
 * What a street address looks like without a label: a block or house number before a name, a "Jalan"/"Lorong"
 * name, or a name ending in a street word ("Tampines Avenue 4", "Upper Thomson Road").
 */
const anyCase = (words: string[]) => words.map((w) => [...w].map((c) => (/[a-z]/.test(c) ? `[${c}${c.toUpperCase()}]` : c)).join('')).join('|');
const STREET_WORD = anyCase([
  'road',
  'rd',
  'street',
  'st',
  'avenue',
  'ave',
  'drive',
  'dr',
  'crescent',
  'cres',
  'close',
  'lane',
  'walk',
  'way',
  'place',
  'link',
  'rise',
  'view',
  'heights',
  'grove',
  'terrace',
  'boulevard',
  'ring',
  'circle',
]);
const MALAY_STREET = anyCase(['jalan', 'lorong', 'jln', 'lor']);
export const STREET = new RegExp(
  String.raw`\b(?:${anyCase(['blk', 'block'])})\s*\d|\b\d{1,4}[A-Za-z]?\s+(?:[A-Z][\p{L}'-]*\s+)*(?:${MALAY_STREET}|[A-Z][\p{L}'-]+)\b|\b(?:${MALAY_STREET})\s+[A-Z]|\b[A-Z][\p{L}'-]+(?:\s+[A-Z][\p{L}'-]+)*\s+(?:${STREET_WORD})\b`,
  'u',
);

/** A place value ends before its postal code, a price, a schedule or a tutor description that follows it. */
function cutPlace(v: string): string {
  let out = v.split(/\s+on\s+|\s*\[|\s*\(#|\s*\(\s*nearest\b|\s#[A-Za-z]|,?\s*(?:\$|S\$|SGD)\s?\d|\s[-–|]\s(?=\$|\d|mon|tue|wed|thu|fri|sat|sun)/i)[0] ?? '';
  const postal = /\(\s*(?:[Ss]\s*)?\d{6}\s*\)|\b[Ss]?\d{6}\b/.exec(out);
  if (postal) out = out.slice(0, postal.index);
  return tidy(out.replace(/[^\p{L}\p{N})\].]+$/u, ''));
}

/**
 * The place on a headline: after " @ ", or the first of the line's " at " / " | " / " - " segments that reads as a
 * street ("P5 Science | 38 Jalan Kembangan | $40/h", "JC1 Econs - Jalan Bukit Merah - $70/h").
 */
export function placeAfterAt(text: string): string | null {
  const i = text.indexOf(' @ ');
  if (i >= 0) {
    const v = cutPlace(text.slice(i + 3));
    return v && !ONLINE.test(v) ? v : null;
  }
  const segments = text.split(/\s+at\s+|\s+\|\s+|\s+[-–]\s+/);
  for (const segment of segments.slice(1)) {
    const v = cutPlace(segment);
    if (v && STREET.test(v) && !ONLINE.test(v)) return v;
  }
  return null;
}

export function extractAddress(p: Parsed, headline: string | null): string[] | null {
  const out: string[] = [];
  for (const l of p.labels) {
    if (l.kind !== 'location' || !l.value || ONLINE.test(l.value)) continue;
    for (const place of splitPlaces(cleanLocation(l.value))) if (place && !out.includes(place)) out.push(place);
  }
  if (out.length) return out;
  const info = firstLabel(p, 'info');
  for (const source of [info?.value, headline]) {
    const place = source ? placeAfterAt(source) : null;
    if (place) return [place];
  }
  return null;
}

/** "Novena", "Meridian or Coral Edge" after an explicit "nearest MRT (station):" label. */
const NEAREST_LABEL = /\bnearest\s+(?:mrt|lrt|mrt\/lrt)(?:\s+station)?\s*[:：-]\s*([^)\n;]{1,80})/gi;
/** Capitalised station name directly before MRT/LRT: "Outram Park MRT", "(near Kadaloor LRT)". */
const NAMED_STATION = /((?:[A-Z][\p{L}'’-]*\s+){1,4})(MRT|LRT)\b/gu;
const LEADING_STOP = /^(?:near|nearest|nearby|at|to|the|walk|walking|from|by)\s+/i;

export function extractMrt(p: Parsed): string[] | null {
  const out: string[] = [];
  const add = (s: string) => {
    const t = tidy(s);
    if (t && !out.includes(t)) out.push(t);
  };
  for (const l of p.labels) if (l.kind === 'mrt' && l.value) l.value.split(/\s*(?:,|\/|\bor\b)\s*/).forEach(add);
  for (const line of p.lines) {
    const text = stripLinks(line.clean);
    for (const m of text.matchAll(NEAREST_LABEL)) (m[1] ?? '').split(/\s*(?:,|\/|\bor\b)\s*/).forEach(add);
    if (/nearest\s+(?:mrt|lrt)/i.test(text)) continue;
    for (const m of text.matchAll(NAMED_STATION)) {
      let name = (m[1] ?? '').trim();
      while (LEADING_STOP.test(name)) name = name.replace(LEADING_STOP, '');
      if (name) add(`${name} ${m[2] ?? ''}`);
    }
  }
  return out.length ? out : null;
}
