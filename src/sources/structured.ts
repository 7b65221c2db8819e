import type { LlmAssignment } from '../extraction/index.ts';
import { recordAssignment, type TutorCityRecord } from './tutorcity/record.ts';

/**
 * A raw row written by a structured source (an agency's API) carries its record in message_json: the worker
 * maps it straight to the canonical extraction instead of running an extractor over the text. Null for a post.
 */
export function structuredAssignment(messageJson: unknown): LlmAssignment | null {
  const m = messageJson as { source?: unknown; record?: unknown } | null;
  if (m?.source === 'tutorcity' && m.record && typeof m.record === 'object') return recordAssignment(m.record as TutorCityRecord);
  return null;
}
