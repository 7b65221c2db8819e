export * from './types.ts';
export { toJson } from './serialize.ts';
export { channelLinkForEntity, mapGramjsMessage, markedPeerId, type ChannelEntityLike } from './gramjs-map.ts';
export {
  GramjsSource,
  backoffSeconds,
  createTelegramClient,
  newTelegramClient,
  type GramjsClient,
  type GramjsClientFactory,
  type GramjsLog,
  type GramjsSourceOptions,
} from './gramjs.ts';
export { askFromTerminal, runLogin, type Ask, type LoginClient, type LoginOptions } from './login.ts';
export { DesktopExportSource, mapExportMessage, type ExportCheck, type RefusedFile } from './desktop-export.ts';
export { MemorySource } from './memory.ts';
