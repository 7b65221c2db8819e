export { BotError, createBotClient, type BotClient, type BotClientOptions, type BotErrorKind } from './bot-client.ts';
export { renderAssignment, loadAssignmentForMessage, type AssignmentForMessage, type FreshnessHours, type RenderOptions } from './render.ts';
export { queueBroadcasts, queueDms, requestBroadcastSync, type DmRecipient } from './outbox.ts';
export { createDispatcher, type Dispatcher, type DispatcherOptions, type DispatchStats } from './dispatcher.ts';
