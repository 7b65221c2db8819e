export {
  rawRowFromMessage,
  upsertRawMessages,
  upsertChannel,
  knownChannelLinks,
  markDeleted,
  latestMessageDates,
  newestMessageIds,
  type RawRow,
  type UpsertResult,
} from './raw.ts';
