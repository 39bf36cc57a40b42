import { AbortError } from './errors.js';
import { timerDelay } from './timers.js';

/**
 * Decides whether and when to try an operation again. The SDK asks it only about failures it
 * already considers safe to repeat (see `HttpClient`), so a policy decides *timing*, not *safety*.
 */
export interface RetryPolicy {
  /**
   * @param attempt the number of the attempt that just failed, starting at 1
   * @param error what it failed with
   * @returns milliseconds to wait before the next attempt, or `undefined` to give up
   */
  nextDelayMs(attempt: number, error: unknown): number | undefined;
}

export type Jitter = 'full' | 'equal' | 'none';

export interface ExponentialBackoffOptions {
  /** Attempts in total, the first one included. Default 4. */
  maxAttempts?: number;
  /** Delay before the second attempt, before jitter. Default 200 ms. */
  initialDelayMs?: number;
  /** Upper bound for any delay. Default 10 000 ms. */
  maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  multiplier?: number;
  /**
   * `full` (default): uniform in [0, d]; `equal`: d/2 + uniform in [0, d/2]; `none`: exactly d.
   * Full jitter spreads clients that failed together (AWS architecture blog, "Exponential Backoff And Jitter").
   */
  jitter?: Jitter;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

/** Exponential backoff with jitter; honours a server's `Retry-After` when the error carries one. */
export class ExponentialBackoff implements RetryPolicy {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  readonly jitter: Jitter;
  private readonly random: () => number;

  constructor(options: ExponentialBackoffOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? 4;
    this.initialDelayMs = options.initialDelayMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    this.multiplier = options.multiplier ?? 2;
    this.jitter = options.jitter ?? 'full';
    this.random = options.random ?? Math.random;
  }

  nextDelayMs(attempt: number, error: unknown): number | undefined {
    if (attempt >= this.maxAttempts) return undefined;
    const base = Math.min(this.maxDelayMs, this.initialDelayMs * this.multiplier ** (attempt - 1));
    let delay: number;
    switch (this.jitter) {
      case 'none':
        delay = base;
        break;
      case 'equal':
        delay = base / 2 + this.random() * (base / 2);
        break;
      default:
        delay = this.random() * base;
    }
    const retryAfter = retryAfterOf(error);
    if (retryAfter !== undefined) delay = Math.max(delay, Math.min(retryAfter, this.maxDelayMs));
    return Math.round(delay);
  }
}

/** Never retries. */
export const noRetry: RetryPolicy = Object.freeze({ nextDelayMs: () => undefined });

function retryAfterOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'retryAfterMs' in error) {
    const value = (error as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  }
  return undefined;
}

/** Parses a `Retry-After` header (delta seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(header: string | undefined, now: number = Date.now()): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Waits `ms` (at most 2^31-1 ms, about 24.8 days: Node fires longer timers after 1 ms),
 * or rejects with `AbortError` as soon as `signal` fires.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortError('wait before retry', signal.reason));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError('wait before retry', signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, timerDelay(ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
