import { bundledStations, type Station } from './geo-data.ts';
import { lazy } from './load-json.ts';
import { POSTAL_DISTRICTS } from './postal-districts.ts';
import { coordsForPostalCode, type LatLon } from './postal-coords.ts';

/**
 * Offline gazetteer: MRT/LRT station names from mrt_data.json and the general locations of the postal districts.
 * `findPlace(text)` returns the first (longest, leftmost) known place named in the text.
 */
export interface Place extends LatLon {
  name: string;
  kind: 'mrt' | 'area';
  station: Station | null;
  district: number | null;
}

interface Entry {
  regex: RegExp;
  place: Place;
}

/** "TAMPINES WEST MRT STATION (DT31)" → "tampines west". */
export const stationBaseName = (name: string): string =>
  name
    .replace(/\(.*?\)/g, ' ')
    .replace(/\b(?:MRT|LRT)\b.*$/i, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();

const placeRegex = (name: string): RegExp => {
  const body = name
    .toLowerCase()
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/'/g, "'?")
    .replace(/[-\s]+/g, '[\\s-]?');
  return new RegExp(`(?<![A-Za-z0-9])${body}(?![A-Za-z0-9])`, 'i');
};

function buildGazetteer(): Entry[] {
  const entries: Entry[] = [];
  const seen = new Set<string>();
  for (const s of bundledStations()) {
    const base = stationBaseName(s.name);
    if (base.length < 3 || seen.has(base)) continue;
    seen.add(base);
    entries.push({ regex: placeRegex(base), place: { name: base, kind: 'mrt', station: s, district: null, lat: s.lat, lon: s.lon } });
  }
  for (const d of POSTAL_DISTRICTS) {
    const loc = coordsForPostalCode(`${d.sectors[0]}0000`);
    if (!loc) continue;
    for (const area of d.areas) {
      const key = area.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      entries.push({ regex: placeRegex(key), place: { name: key, kind: 'area', station: null, district: d.district, lat: loc.lat, lon: loc.lon } });
    }
  }
  return entries.sort((a, b) => b.place.name.length - a.place.name.length);
}

const gazetteer = lazy(buildGazetteer);

/** The leftmost known place in the text (ties → longest name; stations before district areas). Never throws. */
export function findPlace(text: string): Place | null {
  if (typeof text !== 'string' || !text.trim()) return null;
  const src = text.length > 5000 ? text.slice(0, 5000) : text;
  let best: { index: number; place: Place } | null = null;
  for (const e of gazetteer()) {
    const m = e.regex.exec(src);
    if (m && (best === null || m.index < best.index)) best = { index: m.index, place: e.place };
  }
  return best?.place ?? null;
}
