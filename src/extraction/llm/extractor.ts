import type { Config } from '../../config/index.ts';
import type { LlmAssignment } from '../schema.ts';
import { ExtractionError, type ExtractContext, type Extractor, type ExtractorMeta, type ExtractorResult, type Fingerprint } from '../types.ts';
import { CircuitBreaker } from './breaker.ts';
import { LlmClient, type ChatReply, type LlmClientOptions } from './client.ts';
import { FewShotExamples } from './few-shot.ts';
import { buildUserMessage, promptFingerprint, resolveSystemPrompt, type SystemPrompt } from './prompt.ts';
import { parseReply } from './reply.ts';
import { MemoryReuseStore, normalizeMessage, reuseKey, type ReuseStore } from './reuse.ts';

export type LlmConfig = Config['llm'];

export interface LlmExtractorOptions extends Pick<LlmClientOptions, 'maxAttempts' | 'backoffBaseMs' | 'backoffMaxMs' | 'retryAfterMaxMs'> {
  /** earlier answers; default an in-memory LRU, `null` turns reuse off */
  reuseStore?: ReuseStore | null;
  /** base for relative prompt/examples paths; default process.cwd() */
  baseDir?: string;
  breaker?: CircuitBreaker;
  /** bound on each reuse-store call (default 2 s); a slow or failing store counts as a miss */
  storeTimeoutMs?: number;
}

const DEFAULT_API_URL = 'http://localhost:1234';

/**
 * LLM extractor: post text → the ten canonical keys. The prompt is resolved once at construction (a bad prompt
 * or examples setting fails at startup, not per job). Order per call: reuse store → circuit breaker → HTTP call
 * (with retries) → reply parsing. Transient failures throw `ExtractionError(…, {transient:true})` so the worker
 * re-queues the job; while the breaker is open `breaker.isOpen()` tells the worker to stop claiming.
 */
export class LlmExtractor implements Extractor {
  readonly kind = 'llm' as const;
  readonly breaker: CircuitBreaker;
  readonly client: LlmClient;
  readonly systemPrompt: SystemPrompt;
  readonly promptFingerprint: Fingerprint;
  private readonly examples: FewShotExamples;
  private readonly store: ReuseStore | null;
  private readonly storeTimeoutMs: number;

  constructor(config: LlmConfig, options: LlmExtractorOptions = {}) {
    const baseDir = options.baseDir ?? process.cwd();
    this.systemPrompt = resolveSystemPrompt({ systemPromptText: config.systemPromptText, systemPromptFile: config.systemPromptFile, baseDir });
    this.examples = new FewShotExamples({
      includeExamples: config.includeExamples,
      examplesDir: config.examplesDir,
      examplesVariant: config.examplesVariant,
      baseDir,
    });
    this.promptFingerprint = promptFingerprint(this.systemPrompt, { model: config.model, temperature: 0, maxTokens: config.maxTokens });
    this.client = new LlmClient({
      apiUrl: config.apiUrl ?? DEFAULT_API_URL,
      apiKey: config.apiKey,
      model: config.model,
      timeoutMs: config.timeoutSeconds * 1000,
      maxTokens: config.maxTokens,
      maxAttempts: options.maxAttempts,
      backoffBaseMs: options.backoffBaseMs,
      backoffMaxMs: options.backoffMaxMs,
      retryAfterMaxMs: options.retryAfterMaxMs,
    } as LlmClientOptions);
    this.breaker = options.breaker ?? new CircuitBreaker({ threshold: config.breakerThreshold, timeoutMs: config.breakerTimeoutSeconds * 1000 });
    this.store = options.reuseStore === undefined ? new MemoryReuseStore() : options.reuseStore;
    this.storeTimeoutMs = options.storeTimeoutMs ?? 2000;
  }

  async extract(text: string, context: ExtractContext): Promise<ExtractorResult> {
    const started = Date.now();
    const message = normalizeMessage(text);
    const examples = this.examples.forChannel(context.channelLink);
    const meta: ExtractorMeta = {
      extractor: 'llm',
      model: this.client.model,
      prompt: this.promptFingerprint,
      examples: examples?.fingerprint ?? null,
      usage: null,
      latency_ms: 0,
      attempts: 0,
      cache_hit: false,
    };
    const key = reuseKey({ text: message, prompt: this.promptFingerprint, examples: meta.examples ?? null, model: this.client.model });
    const cached = await this.storeGet(key);
    if (cached) return { assignment: cached, meta: { ...meta, cache_hit: true, latency_ms: Date.now() - started } };

    if (!this.breaker.tryAcquire()) {
      const retryIn = this.breaker.retryInMs();
      throw withMeta(
        new ExtractionError('llm_circuit_open', `LLM circuit breaker open; retry in ${Math.ceil(retryIn / 1000)}s`, {
          transient: true,
          details: { retry_in_ms: retryIn, breaker: this.breaker.stats() },
        }),
        meta,
        started,
      );
    }
    const user = buildUserMessage(message, examples?.block ?? null);
    let reply: ChatReply;
    try {
      reply = await this.client.complete(this.systemPrompt.message, user, context.signal);
    } catch (err) {
      const error = err instanceof ExtractionError ? err : new ExtractionError('llm_error', String(err));
      if (error.type === 'llm_aborted') this.breaker.onAbandoned();
      else if (error.transient) this.breaker.onFailure();
      else this.breaker.onSuccess(); // the backend answered; a 4xx is not an outage
      meta.attempts = typeof error.details.attempts === 'number' ? error.details.attempts : 1;
      throw withMeta(error, meta, started);
    }
    this.breaker.onSuccess();
    Object.assign(meta, { attempts: reply.attempts, usage: reply.usage, response_format: reply.responseFormat, finish_reason: reply.finishReason });
    const parsed = parseReply(reply.text);
    if (!parsed.ok) throw withMeta(parsed.error, meta, started);
    if (parsed.repaired.length > 0) meta.repaired = parsed.repaired;
    await this.storePut(key, parsed.value);
    return { assignment: parsed.value, meta: { ...meta, latency_ms: Date.now() - started } };
  }

  private async storeGet(key: string): Promise<LlmAssignment | null> {
    if (!this.store) return null;
    return bounded(this.store.get(key), this.storeTimeoutMs, null);
  }

  private async storePut(key: string, value: LlmAssignment): Promise<void> {
    if (this.store) await bounded(this.store.put(key, value), this.storeTimeoutMs, undefined);
  }
}

function withMeta(error: ExtractionError, meta: ExtractorMeta, started: number): ExtractionError {
  error.details.meta = { ...meta, latency_ms: Date.now() - started };
  return error;
}

/** Resolve with `fallback` when the promise rejects or takes longer than `ms`. */
function bounded<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      () => {
        clearTimeout(timer);
        resolve(fallback);
      },
    );
  });
}
