import type { LlmAssignment } from './schema.ts';

/** What an extractor knows about the post besides its text. */
export interface ExtractContext {
  /** canonical channel link, e.g. t.me/someagency (chooses per-agency few-shot examples, status rules) */
  channelLink: string | null;
  signal?: AbortSignal;
}

/** Fingerprint of a prompt or example set, recorded in meta so runs can be compared. */
export interface Fingerprint {
  sha256: string;
  chars: number;
  source: string;
}

export interface ExtractorMeta {
  extractor: 'llm' | 'rules';
  model?: string;
  prompt?: Fingerprint;
  examples?: Fingerprint | null;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  latency_ms: number;
  /** LLM reuse: the result came from an earlier identical request */
  cache_hit?: boolean;
  attempts?: number;
  [key: string]: unknown;
}

export interface ExtractorResult {
  /** the ten canonical keys, validated */
  assignment: LlmAssignment;
  meta: ExtractorMeta;
}

/** LLM or rules: raw post text → the ten canonical keys. Hardening runs afterwards, the same for both. */
export interface Extractor {
  readonly kind: 'llm' | 'rules';
  /** LLM extractors: while open, the worker stops claiming instead of spending every job's attempts on an outage. */
  readonly breaker?: { isOpen(): boolean; retryInMs(): number };
  extract(text: string, context: ExtractContext): Promise<ExtractorResult>;
}

/** Typed extraction failures; `transient` ones are retried by the worker, the rest fail the job. */
export class ExtractionError extends Error {
  readonly type: string;
  readonly transient: boolean;
  readonly details: Record<string, unknown>;
  constructor(type: string, message: string, options: { transient?: boolean; details?: Record<string, unknown> } = {}) {
    super(message);
    this.name = 'ExtractionError';
    this.type = type;
    this.transient = options.transient ?? false;
    this.details = options.details ?? {};
  }
}
