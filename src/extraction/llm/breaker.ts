/**
 * LLM circuit breaker (docs/extraction.md, "The extractor"): closed → open after `threshold` consecutive TRANSIENT
 * failures (timeouts, connection errors, 5xx, 429; content errors such as bad JSON prove the backend is alive and do
 * not count) → half-open after `timeoutMs`, where exactly one probe call is let through → closed on its success, open
 * again at once on its failure (no fresh run of `threshold` full-timeout calls). While open the extractor throws a
 * transient `llm_circuit_open`, and `isOpen()` tells the worker to stop claiming.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  threshold: number;
  timeoutMs: number;
  now?: () => number;
}

export interface BreakerStats {
  state: BreakerState;
  consecutive_failures: number;
  total_calls: number;
  total_successes: number;
  total_failures: number;
  total_rejected: number;
  opened_at: number | null;
  retry_in_ms: number;
}

export class CircuitBreaker {
  private readonly threshold: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private consecutive = 0;
  private openedAt: number | null = null;
  private probeInFlight = false;
  private totals = { calls: 0, successes: 0, failures: 0, rejected: 0 };

  constructor(options: BreakerOptions) {
    this.threshold = Math.max(1, Math.floor(options.threshold));
    this.timeoutMs = Math.max(0, options.timeoutMs);
    this.now = options.now ?? Date.now;
  }

  state(): BreakerState {
    if (this.openedAt === null) return 'closed';
    return this.now() - this.openedAt >= this.timeoutMs ? 'half_open' : 'open';
  }

  /** True when a call now would be rejected: open, or half-open with its single probe already running. */
  isOpen(): boolean {
    const s = this.state();
    return s === 'open' || (s === 'half_open' && this.probeInFlight);
  }

  /** Milliseconds until a probe will be allowed (0 when calls are allowed now). */
  retryInMs(): number {
    if (this.openedAt === null) return 0;
    if (this.probeInFlight) return Math.max(1000, this.timeoutMs);
    return Math.max(0, this.openedAt + this.timeoutMs - this.now());
  }

  /** Ask to make a call; false = rejected. In half-open state only the first caller gets through (the probe). */
  tryAcquire(): boolean {
    this.totals.calls++;
    const s = this.state();
    if (s === 'closed') return true;
    if (s === 'half_open' && !this.probeInFlight) {
      this.probeInFlight = true;
      return true;
    }
    this.totals.rejected++;
    return false;
  }

  /** The backend answered (success, or a content error that is not its fault). */
  onSuccess(): void {
    this.totals.successes++;
    this.consecutive = 0;
    this.openedAt = null;
    this.probeInFlight = false;
  }

  /** A transient (infrastructure) failure. */
  onFailure(): void {
    this.totals.failures++;
    this.consecutive++;
    if (this.probeInFlight || this.consecutive >= this.threshold) this.openedAt = this.now();
    this.probeInFlight = false;
  }

  /** The call ended without telling anything about the backend (e.g. aborted by the caller). */
  onAbandoned(): void {
    this.probeInFlight = false;
  }

  stats(): BreakerStats {
    return {
      state: this.state(),
      consecutive_failures: this.consecutive,
      total_calls: this.totals.calls,
      total_successes: this.totals.successes,
      total_failures: this.totals.failures,
      total_rejected: this.totals.rejected,
      opened_at: this.openedAt,
      retry_in_ms: this.retryInMs(),
    };
  }
}
