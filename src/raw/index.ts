export {
  rawRowFromMessage,
  upsertRawMessages,
  upsertChannel,
  knownChannelLinks,
  markDeleted,
  latestMessageDates,
  type RawRow,
  type UpsertResult,
} from './raw.ts';
