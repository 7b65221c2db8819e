export {
  BotError,
  createBotClient,
  type BotClient,
  type BotClientOptions,
  type BotErrorKind,
  type ReachedTelegram,
  type InlineButton,
  type InlineKeyboard,
} from './bot-client.ts';
export {
  renderAssignment,
  loadAssignmentForMessage,
  keyboardFor,
  FEEDBACK_BUTTONS,
  type AssignmentForMessage,
  type FreshnessHours,
  type RenderOptions,
} from './render.ts';
export { inQuietHours, quietHoursEnd, sgtDay } from './schedule.ts';
export {
  announceGroupTakeover,
  announceLeftBehind,
  inheritDmHistory,
  retireRedundantBroadcasts,
  cancelPendingDms,
  groupBroadcastShown,
  reannounceBroadcasts,
  queueBroadcasts,
  queueDms,
  requestBroadcastSync,
  type DmRecipient,
} from './outbox.ts';
export { createDispatcher, type Dispatcher, type DispatcherOptions, type DispatchStats } from './dispatcher.ts';
export { listDeliveries, resolveUncertain, DELIVERY_STATUSES, type DeliveryListing, type DeliveryStatus, type UncertainResolution } from './operator.ts';
