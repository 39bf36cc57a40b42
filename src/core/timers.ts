/**
 * The longest delay Node's `setTimeout` takes: 2^31-1 ms (about 24.8 days). Anything longer (and NaN)
 * fires after 1 ms instead, with only a `TimeoutOverflowWarning`, so a huge deadline would expire at once
 * and a huge backoff would turn into a busy loop.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * A delay that is safe to hand to `setTimeout`: NaN and negative values become 0, values above
 * {@link MAX_TIMER_DELAY_MS} (Infinity too) become {@link MAX_TIMER_DELAY_MS}. Every timer of the SDK's
 * HTTP, Ditto and registry code goes through this.
 */
export function timerDelay(ms: number): number {
  if (Number.isNaN(ms) || ms <= 0) return 0;
  return Math.min(ms, MAX_TIMER_DELAY_MS);
}
