/** Post-extraction hardening: the same deterministic glue after the LLM or the rules extractor. */
export { normalizeText } from './normalize.ts';
export { applyFills, coerceList, fillAddress, fillLearningMode, fillLessonSchedule, fillPostalCode } from './fills.ts';
export type { FillMeta, FillResult, Parsed } from './fills.ts';
export { canonicalPostalCode, findPostalCodes } from './postal.ts';
export { extractTimeAvailability } from './time.ts';
export type { TimeMeta, TimeSpan } from './time.ts';
export { hardValidate } from './validate.ts';
export type { HardValidation, Violation, ViolationCode } from './validate.ts';
export { validateCanonical } from './schema-check.ts';
export type { SchemaCheck } from './schema-check.ts';
export { detectStatus } from './status.ts';
export type { AssignmentStatus, StatusDetection } from './status.ts';
export { parseQualityScore } from './quality.ts';
export type { QualityExtras } from './quality.ts';
