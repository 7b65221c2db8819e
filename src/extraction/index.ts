export * from './schema.ts';
export * from './types.ts';
export { createExtractor, harden, processPost, processRecord, type HardenedItem, type PostInput, type PostResult } from './pipeline.ts';
export { RulesExtractor, extractRules } from './rules/index.ts';
export { LlmExtractor, MemoryReuseStore, DatabaseReuseStore, type ReuseStore } from './llm/index.ts';
export { triage } from './triage/index.ts';
export { readsAsClosure } from './gate.ts';
export { loadExamples, parseExamplesFile } from './examples.ts';
export { scoreCase, summarize } from './score.ts';
export { evaluateExamples, type EvalReport } from './evaluate.ts';
export {
  loadMatchingGold,
  matchingItemFrom,
  scoreMatchingPost,
  MATCHING_FIELDS,
  type MatchingGold,
  type MatchingItem,
  type MatchingReport,
} from './matching-score.ts';
export {
  coordsForPostalCode,
  normalizePostalCode,
  haversineMeters,
  getTaxonomy,
  hourlyRange,
  normalizeLabel,
  type PostalLocation,
  type Taxonomy,
} from './signals/index.ts';
