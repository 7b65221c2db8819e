import { bundledStations, type Station } from './geo-data.ts';
import { lazy } from './load-json.ts';
import { POSTAL_DISTRICTS, districtForSector, normalizePostalCode } from './postal-districts.ts';

/**
 * Approximate coordinates per postal sector, offline (data/README.md): average the MRT stations whose address
 * postal code falls in the sector; sectors without a station take the average of their district's other sectors.
 * Good to a few kilometres – enough for region and nearest-MRT. A full postcode table can replace this later.
 */
export interface LatLon {
  lat: number;
  lon: number;
}

function average(points: LatLon[]): LatLon | null {
  if (points.length === 0) return null;
  return { lat: points.reduce((s, p) => s + p.lat, 0) / points.length, lon: points.reduce((s, p) => s + p.lon, 0) / points.length };
}

export function buildSectorCoords(stations: Station[]): Map<string, LatLon> {
  const bySector = new Map<string, LatLon[]>();
  for (const s of stations) {
    const code = normalizePostalCode(s.postal);
    if (!code) continue;
    const list = bySector.get(code.slice(0, 2)) ?? [];
    list.push({ lat: s.lat, lon: s.lon });
    bySector.set(code.slice(0, 2), list);
  }
  const out = new Map<string, LatLon>();
  for (const [sector, pts] of bySector) out.set(sector, average(pts)!);
  for (const d of POSTAL_DISTRICTS) {
    const known = d.sectors.map((s) => out.get(s)).filter((p): p is LatLon => p !== undefined);
    const fill = average(known) ?? DISTRICT_FALLBACK[d.district] ?? null;
    if (fill) for (const s of d.sectors) if (!out.has(s)) out.set(s, fill);
  }
  return out;
}

/** Hand-written approximate centres for the two districts with no station in the bundled MRT file. */
const DISTRICT_FALLBACK: Record<number, LatLon> = {
  24: { lat: 1.37, lon: 103.72 }, // Lim Chu Kang / Tengah
  28: { lat: 1.39, lon: 103.87 }, // Seletar / Yio Chu Kang
};

const sectorCoords = lazy(() => buildSectorCoords(bundledStations()));

export interface PostalLocation extends LatLon {
  sector: string;
  district: number;
  precision: 'sector' | 'district';
}

/** Approximate location of a postal code (sector precision when a station shares the sector), or null. */
export function coordsForPostalCode(code: unknown): PostalLocation | null {
  const normalized = normalizePostalCode(code);
  if (!normalized) return null;
  const sector = normalized.slice(0, 2);
  const district = districtForSector(sector);
  const point = sectorCoords().get(sector);
  if (!district || !point) return null;
  const direct = bundledStations().some((s) => s.postal?.startsWith(sector));
  return { ...point, sector, district: district.district, precision: direct ? 'sector' : 'district' };
}
