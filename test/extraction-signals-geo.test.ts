import { describe, expect, it } from 'vitest';
import {
  coordsForPostalCode,
  enrichFromCoords,
  estimatePostalCodes,
  geoEnrich,
  haversineMeters,
  nearestMrt,
  normalizePostalCode,
  parseRegions,
  parseStations,
  POSTAL_DISTRICTS,
  regionForPoint,
} from '../src/extraction/signals/index.ts';

describe('estimated postal codes (offline: no Nominatim, area-precision representative code)', () => {
  it('#1 explicit postal code present → null, skipped postal_code_present', () => {
    const r = estimatePostalCodes({ postal_code: ['642196'], address: ['196B Boon Lay Drive'] }, 'Address: 196B Boon Lay Drive (S)642196');
    expect(r.estimated).toBeNull();
    expect(r.meta.skipped).toBe('postal_code_present');
  });
  it('#2 parsed address "196B Boon Lay Drive" → representative code in the real sector 64 (Boon Lay station 649846)', () => {
    const r = estimatePostalCodes({ postal_code: null, address: ['196B Boon Lay Drive'] }, 'Code ID: 0101pn\nAddress: 196B Boon Lay Drive\n');
    expect(r.meta.ok).toBe(true);
    expect(r.estimated).toEqual(['649846']);
    expect(r.estimated![0]!.slice(0, 2)).toBe('642196'.slice(0, 2));
    expect(r.meta.precision).toBe('area');
  });
  it('#3 no parsed address → taken from the raw "Address:" line', () => {
    const r = estimatePostalCodes({ postal_code: null, address: null }, 'Address: 196B Boon Lay Drive\nRate: $40/hr\n');
    expect(r.estimated).toEqual(['649846']);
  });
  it('unknown place → null and says why; parsed not an object → error', () => {
    expect(estimatePostalCodes({ address: ['Blk 12 Somewhere Unknown Rd'] }, '')).toMatchObject({ estimated: null, meta: { skipped: 'no_offline_match' } });
    expect(estimatePostalCodes({}, 'no address here')).toMatchObject({ estimated: null, meta: { skipped: 'missing_address' } });
    expect(estimatePostalCodes('x', '')).toMatchObject({ estimated: null, meta: { ok: false, error: 'parsed_not_dict' } });
  });
  it('district area names (not stations) give a code in that district', () => {
    const r = estimatePostalCodes({ address: ['Near Tengah Garden Walk'] }, '');
    expect(r.estimated).not.toBeNull();
  });
  it('raw-text address lines: 📍 and emoji-bulleted "◾Location:" are recognised', () => {
    expect(estimatePostalCodes({}, '📍 Bishan St 22').estimated).not.toBeNull();
    expect(estimatePostalCodes({}, '◾Location: Punggol Field').estimated).not.toBeNull();
  });
});

describe('enrichFromCoords with fixture data', () => {
  const regions = parseRegions({
    type: 'FeatureCollection',
    features: [
      {
        type: 'Feature',
        properties: { Name: 'kml_5' },
        geometry: {
          type: 'Polygon',
          coordinates: [
            [
              [103, 1],
              [104, 1],
              [104, 2],
              [103, 2],
              [103, 1],
            ],
          ],
        },
      },
    ],
  });
  const stations = parseStations([
    { name: 'Station A', address: 'A', latitude: 1.5, longitude: 103.5, line: 'EW' },
    { name: 'Station B', address: 'B', latitude: '1.90', longitude: '103.90', line: 'NS' },
  ]);
  it('(1.51, 103.49) → Central, Station A, EW, integer distance, ok (mean Earth radius → 1572 m; the equatorial radius gave 1574)', () => {
    const r = enrichFromCoords(1.51, 103.49, { regions, stations });
    expect(r.region).toBe('Central');
    expect(r.nearest_mrt).toBe('Station A');
    expect(r.nearest_mrt_line).toBe('EW');
    expect(Number.isInteger(r.nearest_mrt_distance_m)).toBe(true);
    expect(r.nearest_mrt_distance_m).toBe(1572);
    expect(r.meta.ok).toBe(true);
  });
  it('non-numeric coordinates → skipped missing_coords', () => {
    expect(enrichFromCoords('x', NaN, { regions, stations }).meta.skipped).toBe('missing_coords');
  });
  it('a ring with fewer than 4 points contains nothing', () => {
    const tiny = parseRegions({
      type: 'FeatureCollection',
      features: [
        {
          properties: { Name: 'kml_1' },
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [103, 1],
                [104, 1],
                [103, 1],
              ],
            ],
          },
        },
      ],
    });
    expect(regionForPoint(1.0001, 103.5, tiny)).toBeNull();
  });
});

describe('observed points with the bundled data', () => {
  const cases: Array<[number, number, string | null, string]> = [
    [1.3536, 103.945, 'East', 'TAMPINES MRT STATION (EW2)'],
    [1.333, 103.7423, 'West', 'JURONG EAST MRT STATION (EW24 / NS1)'],
    [1.437, 103.7865, 'North', 'WOODLANDS MRT STATION (NS9)'],
    [1.4043, 103.9021, 'North-East', 'PUNGGOL MRT STATION (NE17)'],
    [1.3043, 103.8318, 'Central', 'ORCHARD MRT STATION (NS22)'],
    [1.2494, 103.8303, 'Central', 'HARBOURFRONT MRT STATION (NE1 / CC29)'],
    [1.28, 103.95, null, 'BAYSHORE MRT STATION (TE29)'],
  ];
  it.each(cases)('(%s, %s) → %s, %s', (lat, lon, region, mrt) => {
    expect(regionForPoint(lat, lon)).toBe(region);
    expect(nearestMrt(lat, lon)!.name).toBe(mrt);
  });
  it('sea point reports region_not_found; Pulau Ubin is North-East', () => {
    expect(enrichFromCoords(1.28, 103.95).meta.region_error).toBe('region_not_found');
    expect(regionForPoint(1.4044, 103.9625)).toBe('North-East');
  });
  it('haversine (1.30,103.80 → 1.31,103.81) with the mean radius', () => {
    expect(haversineMeters(1.3, 103.8, 1.31, 103.81)).toBeCloseTo(1572.3, 0);
  });
});

describe('postal sectors → coordinates (offline, from bundled stations + district table)', () => {
  it('every one of the 81 sectors (01–82 except 74) has coordinates inside Singapore', () => {
    const sectors = POSTAL_DISTRICTS.flatMap((d) => d.sectors);
    expect(sectors).toHaveLength(81);
    for (const s of sectors) {
      const loc = coordsForPostalCode(`${s}1234`);
      expect(loc, s).not.toBeNull();
      expect(loc!.lat).toBeGreaterThan(1.15);
      expect(loc!.lat).toBeLessThan(1.48);
    }
  });
  it('postal codes are normalised and the sector validated', () => {
    expect(normalizePostalCode('S642196')).toBe('642196');
    expect(normalizePostalCode('Singapore 642196')).toBe('642196');
    expect(normalizePostalCode('742196')).toBeNull(); // sector 74 does not exist
    expect(normalizePostalCode('992196')).toBeNull();
    expect(normalizePostalCode('6421967')).toBeNull();
  });
});

describe('geoEnrich(canonical) offline', () => {
  it('explicit postal code → region + nearest MRT, source postal_code', () => {
    expect(geoEnrich({ postal_code: ['642196'] })).toMatchObject({
      region: 'West',
      nearest_mrt_computed: 'BOON LAY MRT STATION (EW27)',
      nearest_mrt_computed_line: 'EW',
      source: 'postal_code',
    });
  });
  it('estimated code when no explicit one', () => {
    expect(geoEnrich({ postal_code: null, postal_code_estimated: ['520123'] })).toMatchObject({ region: 'East', source: 'postal_code_estimated' });
  });
  it('"near Bishan MRT" alone, without a postal code, gives region and MRT', () => {
    expect(geoEnrich({ nearest_mrt: ['near Bishan MRT'] })).toEqual({
      lat: expect.closeTo(1.351, 2),
      lon: expect.closeTo(103.848, 2),
      region: 'Central',
      nearest_mrt_computed: 'BISHAN MRT STATION (CC15)',
      nearest_mrt_computed_line: 'CC',
      nearest_mrt_computed_distance_m: 0,
      source: 'mrt_name',
    });
  });
  it('area names from the raw text when nothing else', () => {
    expect(geoEnrich({}, 'Location: Tengah')).toMatchObject({ region: 'West', source: 'area_name' });
  });
  it('nothing → all null, never throws on junk', () => {
    const none = {
      region: null,
      nearest_mrt_computed: null,
      nearest_mrt_computed_line: null,
      nearest_mrt_computed_distance_m: null,
      source: null,
      lat: null,
      lon: null,
    };
    expect(geoEnrich({})).toEqual(none);
    expect(geoEnrich(null)).toEqual(none);
    expect(geoEnrich({ postal_code: [123, {}], address: 5 })).toEqual(none);
  });
});
