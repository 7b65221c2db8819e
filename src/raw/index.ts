export {
  rawRowFromMessage,
  upsertRawMessages,
  upsertChannel,
  knownChannelLinks,
  markDeleted,
  latestMessageDates,
  newestMessageIds,
  adoptChannel,
  storedLinksFor,
  type RawRow,
  type UpsertResult,
} from './raw.ts';
