export { LlmExtractor, type LlmConfig, type LlmExtractorOptions } from './extractor.ts';
export { LlmClient, baseUrlWithV1, type ChatReply, type LlmClientOptions, type ResponseFormatMode } from './client.ts';
export { CircuitBreaker, type BreakerOptions, type BreakerState, type BreakerStats } from './breaker.ts';
export { parseReply, snippet, type ParseReplyResult } from './reply.ts';
export { MemoryReuseStore, normalizeMessage, reuseKey, type ReuseStore } from './reuse.ts';
export {
  BUNDLED_PROMPT_PATH,
  PromptConfigError,
  buildUserMessage,
  promptFingerprint,
  resolveSystemPrompt,
  type PromptSettings,
  type SystemPrompt,
} from './prompt.ts';
export { FewShotExamples, channelUsername, type ExamplesChoice, type ExamplesSettings } from './few-shot.ts';
export { classifyCallError } from './errors.ts';
export { fingerprint, sha256Hex } from './fingerprint.ts';
export { DatabaseReuseStore } from './reuse-db.ts';
