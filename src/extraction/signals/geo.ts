import { bundledRegions, bundledStations, type Region, type Station } from './geo-data.ts';

/** Region and nearest MRT from coordinates, offline. */

/** Mean Earth radius (the 6,378,137 m equatorial radius would overstate distances by ~0.1 %). */
export const EARTH_RADIUS_M = 6_371_008.8;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function haversineMeters(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Each ring's bounding box, computed once: most rings are ruled out without walking their points. */
const boxes = new WeakMap<number[][], [number, number, number, number]>();
function box(ring: number[][]): [number, number, number, number] {
  let b = boxes.get(ring);
  if (!b) {
    b = [Infinity, Infinity, -Infinity, -Infinity];
    for (const [x, y] of ring as [number, number][]) {
      if (x < b[0]) b[0] = x;
      if (y < b[1]) b[1] = y;
      if (x > b[2]) b[2] = x;
      if (y > b[3]) b[3] = y;
    }
    boxes.set(ring, b);
  }
  return b;
}

/** Even-odd ray casting; ring points are [lon, lat]; a ring with fewer than 4 points contains nothing. */
function inRing(lon: number, lat: number, ring: number[][]): boolean {
  if (ring.length < 4) return false;
  const [minLon, minLat, maxLon, maxLat] = box(ring);
  if (lon < minLon || lon > maxLon || lat < minLat || lat > maxLat) return false;
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as [number, number];
    const [xj, yj] = ring[j] as [number, number];
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

const inPolygon = (lon: number, lat: number, rings: number[][][]): boolean =>
  rings.length > 0 && inRing(lon, lat, rings[0]!) && !rings.slice(1).some((hole) => inRing(lon, lat, hole));

/** Planning region (West, North, North-East, East, Central) containing the point, or null (sea, abroad, bad input). */
export function regionForPoint(lat: number, lon: number, regions: Region[] = bundledRegions()): string | null {
  if (!finite(lat) || !finite(lon)) return null;
  for (const r of regions) if (r.polygons.some((p) => inPolygon(lon, lat, p))) return r.name;
  return null;
}

export interface NearestMrt {
  name: string;
  line: string | null;
  distance_m: number;
}

/** Closest station by great-circle distance (first in file order wins ties), or null. */
export function nearestMrt(lat: number, lon: number, stations: Station[] = bundledStations()): NearestMrt | null {
  if (!finite(lat) || !finite(lon)) return null;
  let best: Station | null = null;
  let bestD = Infinity;
  for (const s of stations) {
    const d = haversineMeters(lat, lon, s.lat, s.lon);
    if (d < bestD) [best, bestD] = [s, d];
  }
  return best ? { name: best.name, line: best.line, distance_m: Math.round(bestD) } : null;
}

export interface CoordsEnrichment {
  region: string | null;
  nearest_mrt: string | null;
  nearest_mrt_line: string | null;
  nearest_mrt_distance_m: number | null;
  meta: { ok: boolean; skipped?: string; region_error?: string; mrt_error?: string };
}

/** Region + nearest MRT for one point; optional data for tests/fixtures. Never throws. */
export function enrichFromCoords(lat: unknown, lon: unknown, data: { regions?: Region[]; stations?: Station[] } = {}): CoordsEnrichment {
  const empty: CoordsEnrichment = { region: null, nearest_mrt: null, nearest_mrt_line: null, nearest_mrt_distance_m: null, meta: { ok: true } };
  if (!finite(lat) || !finite(lon)) return { ...empty, meta: { ok: true, skipped: 'missing_coords' } };
  const regions = data.regions ?? bundledRegions();
  const stations = data.stations ?? bundledStations();
  const region = regionForPoint(lat, lon, regions);
  const mrt = nearestMrt(lat, lon, stations);
  const meta: CoordsEnrichment['meta'] = { ok: true };
  if (!region) meta.region_error = regions.length ? 'region_not_found' : 'no_region_data';
  if (!mrt) meta.mrt_error = 'no_mrt_data';
  return { region, nearest_mrt: mrt?.name ?? null, nearest_mrt_line: mrt?.line ?? null, nearest_mrt_distance_m: mrt?.distance_m ?? null, meta };
}
