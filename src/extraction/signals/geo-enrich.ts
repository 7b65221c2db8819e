import { enrichFromCoords } from './geo.ts';
import { isRecord } from './load-json.ts';
import { findPlace, type Place } from './places.ts';
import { addressLinesFromText } from './postal-estimate.ts';
import { coordsForPostalCode, type LatLon } from './postal-coords.ts';

/**
 * Region and nearest MRT for an assignment, offline (posts without a postal code still get a location from MRT or
 * area names). Location source, in order: explicit postal code → estimated postal code → MRT name (nearest_mrt field,
 * address field, address-like lines of the raw text) → district area name.
 */
export type GeoSource = 'postal_code' | 'postal_code_estimated' | 'mrt_name' | 'area_name';

export interface GeoEnrichment {
  region: string | null;
  nearest_mrt_computed: string | null;
  nearest_mrt_computed_line: string | null;
  nearest_mrt_computed_distance_m: number | null;
  source: GeoSource | null;
  /** the point the enrichment was computed from (approximate unless source is postal_code) */
  lat: number | null;
  lon: number | null;
}

const flatten = (v: unknown): string[] => (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string' && x.trim() !== '');

function fromCodes(codes: unknown): LatLon | null {
  for (const c of flatten(codes)) {
    const loc = coordsForPostalCode(c);
    if (loc) return loc;
  }
  return null;
}

function fromNames(canonical: Record<string, unknown>, rawText: string | null): Place | null {
  const texts = [...flatten(canonical.nearest_mrt), ...flatten(canonical.address), ...(rawText ? addressLinesFromText(rawText) : [])];
  let area: Place | null = null;
  for (const t of texts) {
    const place = findPlace(t);
    if (place?.kind === 'mrt') return place;
    area ??= place;
  }
  return area;
}

function locate(canonical: Record<string, unknown>, rawText: string | null): { point: LatLon; source: GeoSource } | null {
  const explicit = fromCodes(canonical.postal_code);
  if (explicit) return { point: explicit, source: 'postal_code' };
  const estimated = fromCodes(canonical.postal_code_estimated);
  if (estimated) return { point: estimated, source: 'postal_code_estimated' };
  const place = fromNames(canonical, rawText);
  if (place) return { point: place, source: place.kind === 'mrt' ? 'mrt_name' : 'area_name' };
  return null;
}

/** Never throws; all-null with source null when nothing locates the assignment. */
export function geoEnrich(canonical: unknown, rawText: string | null = null): GeoEnrichment {
  const none: GeoEnrichment = {
    region: null,
    nearest_mrt_computed: null,
    nearest_mrt_computed_line: null,
    nearest_mrt_computed_distance_m: null,
    source: null,
    lat: null,
    lon: null,
  };
  try {
    if (!isRecord(canonical)) return none;
    const found = locate(canonical, typeof rawText === 'string' ? rawText : null);
    if (!found) return none;
    const e = enrichFromCoords(found.point.lat, found.point.lon);
    return {
      region: e.region,
      nearest_mrt_computed: e.nearest_mrt,
      nearest_mrt_computed_line: e.nearest_mrt_line,
      nearest_mrt_computed_distance_m: e.nearest_mrt_distance_m,
      source: found.source,
      lat: found.point.lat,
      lon: found.point.lon,
    };
  } catch {
    return none;
  }
}
