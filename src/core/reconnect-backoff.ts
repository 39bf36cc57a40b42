import type { RetryPolicy } from './retry.js';

/**
 * Counts consecutive connection failures and asks the retry policy for the next delay. The count resets
 * only after a connection stayed up for `stableAfterMs`, so a connection that drops right after every
 * CONNACK keeps backing off instead of hammering the adapter.
 */
export class ReconnectBackoff {
  private failures = 0;
  private stableTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly stableAfterMs: number,
  ) {}

  /** Consecutive failures so far. */
  get attempts(): number {
    return this.failures;
  }

  /** Records a failure; returns the delay before the next attempt, or undefined when the policy gives up. */
  next(error: unknown): number | undefined {
    this.failures += 1;
    const delay = this.policy.nextDelayMs(this.failures, error);
    return delay === undefined ? undefined : Math.max(0, delay);
  }

  connected(): void {
    this.clearTimer();
    this.stableTimer = setTimeout(() => {
      this.stableTimer = undefined;
      this.failures = 0;
    }, this.stableAfterMs);
    this.stableTimer.unref();
  }

  disconnected(): void {
    this.clearTimer();
  }

  reset(): void {
    this.clearTimer();
    this.failures = 0;
  }

  private clearTimer(): void {
    if (this.stableTimer !== undefined) clearTimeout(this.stableTimer);
    this.stableTimer = undefined;
  }
}
