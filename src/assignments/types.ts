import type { CanonicalAssignment, Signals } from '../extraction/index.ts';

export type AssignmentStatus = 'open' | 'closed' | 'expired';

/** One extracted assignment of one raw post, as the worker hands it to the projection. */
export interface AssignmentInput {
  rawId: number;
  /** '' for a single-assignment post; the item's code (or index) inside a compilation */
  itemKey: string;
  extractionId: number;
  pipelineVersion: string;
  channelLink: string;
  channelTitle: string | null;
  messageId: number;
  messageDate: Date;
  editDate: Date | null;
  rawText: string;
  canonical: CanonicalAssignment;
  signals: Signals | null;
  /** hardening meta: status_detection, geo, parse_quality_score … */
  meta: Record<string, unknown>;
  /** the post's own page when its source has one (an agency's API record): the link button opens it */
  sourceUrl?: string | null;
}

export type PersistAction = 'inserted' | 'updated' | 'bumped' | 'reopened';

export interface PersistResult {
  assignmentId: number;
  action: PersistAction;
  status: AssignmentStatus;
  /** how the row was found: the raw link (edit/reparse), the agency's code, the same text re-posted, the same job re-posted with its text touched, or new */
  matchedBy: 'source' | 'code' | 'text' | 'content' | 'new';
  /** a field shown to tutors changed (the broadcast message needs an edit) */
  displayChanged: boolean;
  /** this write closed the assignment (a "closed/taken" notice) */
  closedNow: boolean;
  externalId: string;
}

export interface DuplicateResult {
  groupId: number | null;
  /** the group already had other members before this assignment joined it */
  joinedExisting: boolean;
  isPrimary: boolean;
  score: number | null;
  matchedAssignmentId: number | null;
  /** the other members of the group this assignment has just left (an update made it another job); else [] */
  leftBehind: number[];
}

export interface FreshnessPolicy {
  greenHours: number;
  yellowHours: number;
  orangeHours: number;
  expireHours: number;
}
