export { createTutorBot, type TutorBot, type TutorBotOptions, type TutorBotStats } from './bot.ts';
export { runTutorBot, webhookSecret, BOT_ALLOWED_UPDATES, type RunBotOptions } from './run.ts';
export { recordFeedback, parseFeedbackData, FEEDBACK_LABELS, type FeedbackKind, type FeedbackOutcome } from './feedback.ts';
export { ChatRateLimiter, type RateDecision } from './rate-limit.ts';
export { getChatState, setAwaiting, setDraft, clearChatState, type ChatState, type Awaiting } from './state.ts';
export { formatProfile, parseArea, parseDistance, parseRate, parseLimit, subjectOptions, levelOptions, TYPE_OPTIONS } from './profile.ts';
