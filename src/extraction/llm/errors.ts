import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { ExtractionError } from '../types.ts';

/**
 * Typed classification of a failed HTTP call, by error type and status, never by substring matching on messages.
 * transient = worth retrying later: the job goes back to the queue instead of failing.
 */
export function classifyCallError(err: unknown, aborted: boolean): ExtractionError {
  const message = err instanceof Error ? err.message : String(err);
  if (aborted || err instanceof APIUserAbortError) return new ExtractionError('llm_aborted', 'LLM call aborted', { transient: true });
  if (err instanceof APIConnectionTimeoutError) return new ExtractionError('llm_timeout', `LLM call timed out: ${message}`, { transient: true });
  if (err instanceof APIConnectionError) return new ExtractionError('llm_connection', `LLM connection failed: ${message}`, { transient: true });
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    const details = { status, body: String(message).slice(0, 300) };
    if (status === 429)
      return new ExtractionError('llm_rate_limited', `LLM rate limited (429)`, { transient: true, details: { ...details, retry_after_ms: retryAfterMs(err) } });
    if (status === 408) return new ExtractionError('llm_timeout', 'LLM server reported a request timeout (408)', { transient: true, details });
    if (status >= 500) return new ExtractionError('llm_http_5xx', `LLM server error (${status})`, { transient: true, details });
    return new ExtractionError('llm_http_4xx', `LLM request rejected (${status}): ${details.body}`, { transient: false, details });
  }
  if (err instanceof ExtractionError) return err;
  return new ExtractionError('llm_error', `LLM call failed: ${message.slice(0, 300)}`, { transient: false });
}

/** `retry-after-ms`, or `retry-after` as seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(err: APIError): number | null {
  const headers = err.headers;
  if (!headers) return null;
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers.get('retry-after');
  if (!raw) return null;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : null;
}
