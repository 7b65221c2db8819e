import { sleep } from '../../sleep.ts';
import OpenAI, { APIError } from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { llmJsonSchema } from '../schema.ts';
import { ExtractionError } from '../types.ts';
import { classifyCallError } from './errors.ts';

/** How the reply format is requested: strict JSON Schema, plain JSON mode, or nothing (servers that reject both). */
export type ResponseFormatMode = 'json_schema' | 'json_object' | 'text';
const NEXT_MODE: Record<ResponseFormatMode, ResponseFormatMode | null> = { json_schema: 'json_object', json_object: 'text', text: null };

export interface LlmClientOptions {
  /** e.g. http://localhost:1234 — `/v1` is appended when missing */
  apiUrl: string;
  apiKey: string | null;
  model: string;
  timeoutMs: number;
  maxTokens: number;
  /** total tries for transient failures (default 3) */
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** a 429 asking to wait longer than this is not waited for (default 30 s) */
  retryAfterMaxMs?: number;
}

export interface ChatReply {
  text: string | null;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  finishReason: string | null;
  attempts: number;
  responseFormat: ResponseFormatMode;
}

export function baseUrlWithV1(apiUrl: string): string {
  const trimmed = apiUrl.replace(/\/+$/, '');
  return /\/v1$/.test(trimmed) ? trimmed : `${trimmed}/v1`;
}

/**
 * One OpenAI-compatible chat call with temperature 0 and structured output. Transient failures are retried with
 * exponential backoff (429 honours retry-after); a 400 on response_format falls back once per step to a weaker
 * mode, which is remembered after it works. Every await is bounded: per-attempt timeout, capped sleeps, capped tries.
 */
export class LlmClient {
  responseFormat: ResponseFormatMode = 'json_schema';
  private readonly sdk: OpenAI;
  private readonly opts: Required<LlmClientOptions>;

  constructor(options: LlmClientOptions) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as LlmClientOptions;
    this.opts = { maxAttempts: 3, backoffBaseMs: 500, backoffMaxMs: 8000, retryAfterMaxMs: 30_000, ...defined };
    this.opts.maxAttempts = Math.max(1, Math.min(10, Math.floor(this.opts.maxAttempts)));
    this.sdk = new OpenAI({
      baseURL: baseUrlWithV1(options.apiUrl),
      apiKey: options.apiKey ?? 'not-needed',
      timeout: options.timeoutMs,
      maxRetries: 0,
    });
  }

  get model(): string {
    return this.opts.model;
  }

  requestBody(system: string, user: string, mode: ResponseFormatMode): ChatCompletionCreateParamsNonStreaming {
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: this.opts.model,
      messages: [
        { role: 'system', content: system },
        { role: 'user', content: user },
      ],
      temperature: 0,
      max_tokens: this.opts.maxTokens,
    };
    if (mode === 'json_schema') body.response_format = { type: 'json_schema', json_schema: { name: 'assignment', strict: true, schema: llmJsonSchema() } };
    else if (mode === 'json_object') body.response_format = { type: 'json_object' };
    return body;
  }

  async complete(system: string, user: string, signal?: AbortSignal): Promise<ChatReply> {
    let attempts = 0;
    let transientTries = 0;
    let mode = this.responseFormat;
    for (;;) {
      attempts++;
      transientTries++;
      const call = linkedSignal(signal);
      try {
        const completion = await this.sdk.chat.completions.create(this.requestBody(system, user, mode), {
          timeout: this.opts.timeoutMs,
          maxRetries: 0,
          signal: call.signal,
        });
        this.responseFormat = mode;
        return readCompletion(completion, attempts, mode);
      } catch (err) {
        const next = NEXT_MODE[mode];
        if (err instanceof APIError && err.status === 400 && next) {
          mode = next; // the server may not support this response_format: try the weaker one
          transientTries--;
          continue;
        }
        const error = classifyCallError(err, signal?.aborted === true);
        error.details.attempts = attempts;
        if (!error.transient || error.type === 'llm_aborted' || transientTries >= this.opts.maxAttempts) throw error;
        const wait = this.waitMs(error, transientTries);
        if (wait === null) throw error;
        await sleep(wait, signal);
      } finally {
        call.dispose();
      }
    }
  }

  private waitMs(error: ExtractionError, tries: number): number | null {
    const backoff = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** (tries - 1));
    const retryAfter = error.details.retry_after_ms;
    if (typeof retryAfter !== 'number') return backoff;
    return retryAfter > this.opts.retryAfterMaxMs ? null : Math.max(backoff, retryAfter);
  }
}

/**
 * A signal for one HTTP call that follows `outer`. The SDK adds an 'abort' listener to the signal it is given and
 * never removes it; handing it the worker's long-lived shutdown signal leaked one listener per LLM request.
 */
function linkedSignal(outer: AbortSignal | undefined): { signal: AbortSignal | null; dispose: () => void } {
  if (!outer) return { signal: null, dispose: () => {} };
  const inner = new AbortController();
  const onAbort = () => inner.abort(outer.reason);
  if (outer.aborted) inner.abort(outer.reason);
  else outer.addEventListener('abort', onAbort, { once: true });
  return { signal: inner.signal, dispose: () => outer.removeEventListener('abort', onAbort) };
}

function readCompletion(completion: ChatCompletion, attempts: number, mode: ResponseFormatMode): ChatReply {
  const choices = (completion as { choices?: unknown }).choices;
  const choice = Array.isArray(choices) ? (choices[0] as Record<string, unknown> | undefined) : undefined;
  if (!choice) {
    const keys = completion && typeof completion === 'object' ? Object.keys(completion).sort() : [];
    throw new ExtractionError('llm_bad_response', 'The LLM response has no choices', { transient: false, details: { response_keys: keys, attempts } });
  }
  const message = (choice.message ?? {}) as Record<string, unknown>;
  const text = [message.content, message.text, choice.text].find((t): t is string => typeof t === 'string') ?? null;
  const u = completion.usage;
  const usage = u ? { prompt_tokens: u.prompt_tokens ?? 0, completion_tokens: u.completion_tokens ?? 0, total_tokens: u.total_tokens ?? 0 } : null;
  const finishReason = typeof choice.finish_reason === 'string' ? choice.finish_reason : null;
  return { text, usage, finishReason, attempts, responseFormat: mode };
}
