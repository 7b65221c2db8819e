export type JobStatus = 'pending' | 'processing' | 'ok' | 'failed' | 'skipped';
export const JOB_STATUSES: readonly JobStatus[] = ['pending', 'processing', 'ok', 'failed', 'skipped'];

/** The notification channel enqueue and requeue signal on; the payload is the pipeline version. */
export const QUEUE_CHANNEL = 'tutordex_extractions';

export interface ClaimedJob {
  id: number;
  rawId: number;
  pipelineVersion: string;
  channelLink: string | null;
  messageId: number | null;
  messageDate: Date | null;
  /** 1 on the first claim; doubles as a fencing token for complete/fail/skip/release. */
  attempt: number;
  meta: Record<string, unknown>;
  createdAt: Date;
}

/** A claimed job is identified by its id and the attempt that claimed it. */
export interface JobRef {
  id: number;
  attempt: number;
}

export interface JobResult extends JobRef {
  canonical: Record<string, unknown> | null;
  meta?: Record<string, unknown>;
  llmModel?: string | null;
}

export interface JobError {
  /** machine-readable, e.g. llm_timeout, llm_invalid_json, persist_failed */
  type: string;
  message: string;
  [key: string]: unknown;
}

export interface JobFailure extends JobRef {
  error: JobError;
  /** transient failures go back to pending (with backoff) until the attempt budget is spent */
  transient: boolean;
  meta?: Record<string, unknown>;
}

export interface JobSkip extends JobRef {
  reason: string;
  meta?: Record<string, unknown>;
}

export interface RetryPolicy {
  maxAttempts: number;
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
}

export interface QueueStatsRow {
  pipelineVersion: string;
  status: JobStatus;
  count: number;
  oldestCreatedAt: Date | null;
}
