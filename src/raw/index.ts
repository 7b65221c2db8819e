export {
  rawRowFromMessage,
  upsertRawMessages,
  upsertChannel,
  channelIdForLink,
  knownChannelLinks,
  markDeleted,
  latestMessageDates,
  newestMessageIds,
  adoptChannel,
  storedLinksFor,
  type RawRow,
  type UpsertResult,
} from './raw.ts';
