export { resolveSubjects, resolveLevels, canonicalLevel, subjectCodes } from './resolve.ts';
export {
  TutorInputSchema,
  PostalCodeSchema,
  TUTOR_LEARNING_MODES,
  clampRadiusKm,
  MIN_DISTANCE_KM,
  MAX_DISTANCE_KM,
  DEFAULT_DISTANCE_KM,
  type TutorInput,
  type ParsedTutorInput,
  type TutorLearningMode,
} from './schema.ts';
export { upsertTutor, listTutors, countTutors, removeTutor, importTutors, getTutorByChatId, parseTutorInput, parseCsv, detectImportFormat, type Tutor } from './store.ts';
export {
  matchTutors,
  markDmQueued,
  fairHash,
  gateTutor,
  prepareAssignment,
  previewMatches,
  loadMatchableAssignment,
  type MatchableAssignment,
  type TutorMatch,
  type MatchPreferences,
  type PreparedAssignment,
  type PreviewAssignment,
  type PreviewResult,
} from './match.ts';
