import { isRecord } from './load-json.ts';
import { nearestMrt } from './geo.ts';
import { bundledStations } from './geo-data.ts';
import { findPlace, type Place } from './places.ts';
import { normalizePostalCode } from './postal-districts.ts';

/**
 * Estimated postal codes, OFFLINE (no Nominatim or other geocoder). The bundled data has no street or building
 * gazetteer, so an address can only be placed at area precision: we find an MRT station or postal-district area named
 * in the address and return a *representative* code — the postal code of that station, or of the station nearest to
 * the district's centre. It shares the postal sector/district of the real address in the common case but is not the
 * building's code; meta.precision says so. Nothing recognised → null.
 */
export interface PostalEstimate {
  estimated: string[] | null;
  meta: Record<string, unknown>;
}

const flatten = (v: unknown): string[] =>
  (Array.isArray(v) ? v : [v])
    .filter((x): x is string => typeof x === 'string')
    .map((x) => x.trim())
    .filter(Boolean);

const uniq = (xs: string[]): string[] => [...new Set(xs)];

/** Address-like lines of the raw post: "📍 …", "Address: …", "Location: …", "Venue: …", "Area: …" (also after an emoji bullet). */
export function addressLinesFromText(raw: string): string[] {
  const out: string[] = [];
  for (const line of raw.split(/\r\n|\r|\n|\u2028|\u2029/)) {
    const t = line.trim();
    if (t.startsWith('\u{1F4CD}')) out.push(t.slice(2).trim());
    const m = t.match(/^[^A-Za-z0-9]{0,4}(?:address|location|venue|area)\s*[:\uFF1A]\s*(.+)$/i);
    if (m?.[1]) out.push(m[1].trim());
  }
  return uniq(out.filter(Boolean));
}

/** Drop the word "near" and bracketed segments, collapse whitespace. */
export function cleanAddress(candidate: string): string {
  return candidate
    .replace(/\bnear\b/gi, ' ')
    .replace(/[([][^)\]]{0,200}[)\]]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function representativeCode(place: Place): string | null {
  const own = normalizePostalCode(place.station?.postal ?? null);
  if (own) return own;
  const nearest = nearestMrt(place.lat, place.lon);
  const station = bundledStations().find((s) => s.name === nearest?.name);
  return normalizePostalCode(station?.postal ?? null);
}

/** Estimated postal codes of one assignment, offline. Never throws; never overrides an explicit code. */
export function estimatePostalCodes(parsed: unknown, rawText: string | null | undefined): PostalEstimate {
  if (!isRecord(parsed)) return { estimated: null, meta: { ok: false, error: 'parsed_not_dict' } };
  if (flatten(parsed.postal_code).length > 0) return { estimated: null, meta: { ok: true, skipped: 'postal_code_present' } };
  let candidates = uniq(flatten(parsed.address));
  if (candidates.length === 0 && typeof rawText === 'string') candidates = addressLinesFromText(rawText);
  if (candidates.length === 0) return { estimated: null, meta: { ok: true, skipped: 'missing_address' } };
  const codes: string[] = [];
  const matches: Array<Record<string, unknown>> = [];
  for (const candidate of candidates.slice(0, 5)) {
    const cleaned = cleanAddress(candidate);
    const place = cleaned ? findPlace(cleaned) : null;
    const code = place ? representativeCode(place) : null;
    if (!place || !code) continue;
    if (!codes.includes(code)) codes.push(code);
    matches.push({ candidate: cleaned, place: place.name, kind: place.kind, code });
  }
  const meta: Record<string, unknown> = {
    ok: true,
    method: 'offline_gazetteer',
    precision: 'area',
    used_address_candidates: Math.min(5, candidates.length),
    address_candidates_total: candidates.length,
    estimated_count: codes.length,
    matches,
  };
  if (codes.length === 0) meta.skipped = 'no_offline_match';
  return { estimated: codes.length ? codes : null, meta };
}
