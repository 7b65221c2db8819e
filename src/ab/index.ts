export { compareVersions, type AbComparison, type FieldComparison, type SideStats } from './compare.ts';
export { writeReports } from './report.ts';
export { loadVariant, assertNotLive, type Variant } from './variant.ts';
export { runAb, windowChannels, type AbRunOptions, type AbSideResult } from './run.ts';
export { listVersions, pruneVersion, type VersionInfo } from './versions.ts';
