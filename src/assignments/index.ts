export * from './types.ts';
export { persistAssignment, upsertAgency, closeForRaw, bumpFromReply, closeFromReply, closeForPost, markStillListed } from './persist.ts';
export {
  detectDuplicates,
  duplicateCandidates,
  duplicateMatch,
  lockDuplicateGrouping,
  type DuplicateCandidate,
  type DuplicateMatch,
  type DuplicateRuleOut,
} from './duplicates.ts';
export { refreshFreshness, freshnessTier, type FreshnessTier, type FreshnessResult } from './freshness.ts';
export { liveVersion, liveVersions, setLiveVersion } from './settings.ts';
export { messageLink, textFingerprint, verifiedCode, agencyDisplayName } from './row.ts';
export { identifyItems, closeDropped, unlinkMovedItems, type ItemIdentity } from './items.ts';
