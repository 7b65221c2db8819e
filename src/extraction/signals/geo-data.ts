import { isRecord, lazy, readDataJson } from './load-json.ts';

/** Bundled geo data (regions, MRT stations), loaded once. */
export interface Station {
  name: string;
  line: string | null;
  lat: number;
  lon: number;
  postal: string | null;
}

/** A region: polygons, each a list of rings of [lon, lat] (first ring outer, others holes). */
export interface Region {
  name: string;
  polygons: number[][][][];
}

export const MRT_PATH = 'geo/mrt_data.json';
export const REGION_PATH = 'geo/2019_region_boundary.geojson';

const KML_REGIONS: Record<string, string> = { kml_1: 'West', kml_2: 'North', kml_3: 'North-East', kml_4: 'East', kml_5: 'Central' };
const REGION_N: Record<string, string> = {
  'WEST REGION': 'West',
  'NORTH REGION': 'North',
  'NORTH-EAST REGION': 'North-East',
  'EAST REGION': 'East',
  'CENTRAL REGION': 'Central',
};

const num = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
};

/** Parse an MRT array (file rows or a test fixture); rows without a name or numeric coordinates are skipped. */
export function parseStations(raw: unknown): Station[] {
  if (!Array.isArray(raw)) return [];
  const out: Station[] = [];
  for (const row of raw) {
    if (!isRecord(row) || typeof row.name !== 'string' || !row.name.trim()) continue;
    const lat = num(row.latitude);
    const lon = num(row.longitude);
    if (lat === null || lon === null) continue;
    const postal = typeof row.address === 'string' ? (row.address.match(/(\d{6})\s*$/)?.[1] ?? null) : null;
    out.push({ name: row.name, line: typeof row.line === 'string' ? row.line : null, lat, lon, postal });
  }
  return out;
}

function regionName(props: Record<string, unknown>): string | null {
  const desc = typeof props.Description === 'string' ? props.Description : '';
  const fromDesc = desc
    .match(/REGION_N<\/th>\s*<td>([^<]+)</)?.[1]
    ?.trim()
    .toUpperCase();
  if (fromDesc && REGION_N[fromDesc]) return REGION_N[fromDesc]!;
  const name = [props.Name, props.name, props.NAME].find((v): v is string => typeof v === 'string');
  return name ? (KML_REGIONS[name] ?? null) : null;
}

const isRing = (r: unknown): r is number[][] => Array.isArray(r) && r.every((p) => Array.isArray(p) && typeof p[0] === 'number' && typeof p[1] === 'number');

/** Parse a region FeatureCollection (Polygon and MultiPolygon; other geometries ignored). */
export function parseRegions(raw: unknown): Region[] {
  if (!isRecord(raw) || !Array.isArray(raw.features)) return [];
  const out: Region[] = [];
  for (const f of raw.features) {
    if (!isRecord(f) || !isRecord(f.geometry) || !isRecord(f.properties ?? {})) continue;
    const name = regionName((f.properties ?? {}) as Record<string, unknown>);
    const { type, coordinates } = f.geometry;
    if (!name || !Array.isArray(coordinates)) continue;
    const polys = type === 'Polygon' ? [coordinates] : type === 'MultiPolygon' ? coordinates : [];
    const polygons = polys.filter((p): p is unknown[] => Array.isArray(p)).map((p) => p.filter(isRing));
    if (polygons.length) out.push({ name, polygons });
  }
  return out;
}

export const bundledStations = lazy(() => parseStations(readDataJson(MRT_PATH)));
export const bundledRegions = lazy(() => parseRegions(readDataJson(REGION_PATH)));
