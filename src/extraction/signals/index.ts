/** Deterministic extraction signals: subjects/levels, tutor types and rates, offline geo. */
export { getTaxonomy, normalizeLabel, type Taxonomy } from './taxonomy.ts';
export { extractSubjects, type SubjectMatch } from './subjects.ts';
export { levelAndStreamTokens, canonicalLevel, type AcademicToken } from './levels.ts';
export { parseAcademicRequests, academicTokens, type AcademicParse, type AcademicRequest } from './academic.ts';
export { canonicalizeSubjects, type CanonicalizationResult } from './canonicalize.ts';
export { extractTutorTypes, type TutorTypeResult } from './tutor-types.ts';
export { normalizeTutorLabel } from './tutor-vocab.ts';
export { findRateSpans, hourlyRange, type RateSpan } from './rates.ts';
export { regionForPoint, nearestMrt, enrichFromCoords, haversineMeters, type NearestMrt, type CoordsEnrichment } from './geo.ts';
export { parseRegions, parseStations, type Region, type Station } from './geo-data.ts';
export { coordsForPostalCode, type PostalLocation } from './postal-coords.ts';
export { normalizePostalCode, districtForSector, POSTAL_DISTRICTS } from './postal-districts.ts';
export { findPlace, type Place } from './places.ts';
export { estimatePostalCodes, addressLinesFromText, cleanAddress, type PostalEstimate } from './postal-estimate.ts';
export { geoEnrich, type GeoEnrichment, type GeoSource } from './geo-enrich.ts';
export { buildSignals, MAX_SIGNAL_TEXT } from './build.ts';
