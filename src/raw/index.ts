export {
  rawRowFromMessage,
  upsertRawMessages,
  upsertChannel,
  markDeleted,
  latestMessageDates,
  type RawRow,
  type UpsertResult,
} from './raw.ts';
