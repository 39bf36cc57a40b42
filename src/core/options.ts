/**
 * One name per concept: the option conventions every TwinLedger client follows, and the validators that
 * enforce them (so a wrong value reads the same whichever client it was given to).
 *
 * - **Per-call options** — every async method takes `CallOptions` as its last argument: `signal` (cancels the
 *   call, waits included) and `timeoutMs` (a deadline for the whole call, retries and waits included). Modules
 *   extend it (`HttpCallOptions` adds `headers`, device messages add `qos`, commands add `contentType`) and
 *   never rename these two. (Replaced: the device's `OperationOptions`, the ledger's `LedgerCallOptions`.)
 * - **Credentials** — a client that logs in to a service takes `credentials`: `Credentials` (basic or bearer) for
 *   the HTTP clients (`DittoClient`, `DeviceRegistry`), `{ username, password }` (SASL PLAIN) for
 *   `AmqpNorthbound`, `{ mechanism, username, password }` (SASL) for `KafkaNorthbound`, a source of device
 *   credentials for `TelemetryRelay`. Addresses never carry them (see endpoint.ts). A device client logs in *as a
 *   device* with Hono's names, `authId` + `password`, or a client certificate in `tls`. (Replaced: the registry's
 *   `auth`, AMQP's `username`/`password`, Kafka's `sasl`.)
 * - **Reconnects** — a client that keeps a connection takes `reconnect: { policy, stableAfterMs }`
 *   (`ReconnectOptions`): `policy` times each attempt after a loss, and the attempt count resets only after a
 *   connection stayed up `stableAfterMs`. `retry` stays the policy for repeating a request. (Replaced: AMQP's
 *   `retry` + `stableAfterMs`, Kafka's `retry`. Streams that re-open per request and reset their count on every
 *   event — Ditto's change stream `retry`, `FabricLedger`'s `eventsRetry` — are not connections and keep theirs.)
 * - **Durations** end in `Ms` (or `Seconds` where the protocol counts seconds: Hono's `ttd`, MQTT keep-alive).
 *   `timeoutMs` is a call's deadline (a client's `timeoutMs` is the default of its calls), `connectTimeoutMs`
 *   the deadline of `connect()`. (Replaced: Kafka's `connectionTimeoutMs`, now `socketSetupTimeoutMs`.)
 * - **`close()`** — every client that holds sockets or keep-alive agents has one (`Closeable`). It is idempotent and
 *   final: calls afterwards fail (`ClientClosedError`; device clients `DeviceClientStateError`, northbound
 *   `NorthboundNotConnectedError` with `reason: 'closed'`); create a new client instead of reusing a closed one. An
 *   `http` client passed to `DittoClient` / `DeviceRegistry` is their transport and closed with them; another
 *   client passed in (the relay's `ledger`) stays the caller's. (Replaced: northbound clients that connected again.)
 * - **Numbers** are checked with the validators below, before any I/O: a `ValidationError` naming the field,
 *   worded `must be an integer from 1 to 100, got 0` / `must be a whole number of milliseconds from 1 to
 *   2147483647, got 1.5`. Durations stop at 2^31-1 ms because Node fires longer timers at once.
 */
import { ValidationError } from './errors.js';
import type { RetryPolicy } from './retry.js';
import { MAX_TIMER_DELAY_MS } from './timers.js';

/** Per-call options of every async method of the SDK (see above). */
export interface CallOptions {
  /** Cancels the call, including any wait (before a retry, for a connection, for an acknowledgement). */
  signal?: AbortSignal;
  /** Deadline of the whole call in ms, retries and waits included. Default: each client says. */
  timeoutMs?: number;
}

/** A client that holds sockets: `close()` releases them, once and for good (see above). */
export interface Closeable {
  close(): Promise<void>;
}

/** How a client that keeps a connection re-establishes it (device MQTT/HTTP, AMQP, Kafka). */
export interface ReconnectOptions {
  /** Delay before each attempt after a loss (any `RetryPolicy`; one that gives up ends the reconnects). */
  policy?: RetryPolicy;
  /** The attempt count resets only after a connection stayed up this long, so a flapping peer meets growing delays. */
  stableAfterMs?: number;
}

export interface ResolvedReconnect {
  policy: RetryPolicy;
  stableAfterMs: number;
}

/** A value for an error message: strings quoted, everything else as JavaScript prints it. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

export interface IntegerLimits {
  min: number;
  max: number;
  /** What to do about a wrong value, for the error's `hint`. */
  hint?: string;
}

/** An integer from `min` to `max`; `undefined` gives `fallback`. */
export function integerOption(field: string, value: unknown, limits: IntegerLimits, fallback: number): number;
export function integerOption(field: string, value: unknown, limits: IntegerLimits, fallback?: number): number | undefined;
export function integerOption(field: string, value: unknown, limits: IntegerLimits, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < limits.min || value > limits.max) {
    throw new ValidationError(field, `must be an integer from ${limits.min} to ${limits.max}, got ${showValue(value)}`, limits.hint);
  }
  return value;
}

/** An integer from 1 to `max` (default `Number.MAX_SAFE_INTEGER`); `undefined` gives `fallback`. */
export function positiveInteger(field: string, value: unknown, fallback: number, max?: number): number;
export function positiveInteger(field: string, value: unknown, fallback?: number, max?: number): number | undefined;
export function positiveInteger(field: string, value: unknown, fallback?: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  return integerOption(field, value, { min: 1, max }, fallback);
}

/**
 * A duration: whole milliseconds from 1 (0 with `allowZero`, where 0 switches something off) to 2^31-1;
 * `undefined` gives `fallback`.
 */
export function durationMs(field: string, value: unknown, fallback: number, options?: { allowZero?: boolean }): number;
export function durationMs(field: string, value: unknown, fallback?: number, options?: { allowZero?: boolean }): number | undefined;
export function durationMs(field: string, value: unknown, fallback?: number, options: { allowZero?: boolean } = {}): number | undefined {
  if (value === undefined) return fallback;
  const min = options.allowZero ? 0 : 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_TIMER_DELAY_MS) {
    throw new ValidationError(
      field,
      `must be a whole number of milliseconds from ${min} to ${MAX_TIMER_DELAY_MS}, got ${showValue(value)}`,
      typeof value === 'number' && value > MAX_TIMER_DELAY_MS
        ? 'Node fires timers longer than 2^31-1 ms (about 24.8 days) at once; use a shorter deadline, or a signal to end the call.'
        : undefined,
    );
  }
  return value;
}

/** A `RetryPolicy` (an object with `nextDelayMs(attempt, error)`); `undefined` gives `fallback()`. */
export function retryPolicyOption(field: string, value: unknown, fallback: () => RetryPolicy): RetryPolicy {
  if (value === undefined) return fallback();
  if (typeof value !== 'object' || value === null || typeof (value as RetryPolicy).nextDelayMs !== 'function') {
    throw new ValidationError(
      field,
      'must be a RetryPolicy (an object with nextDelayMs(attempt, error))',
      'e.g. new ExponentialBackoff({ maxAttempts: 5 }) or noRetry',
    );
  }
  return value as RetryPolicy;
}

/** Validates `reconnect` (`{ policy, stableAfterMs }`) and fills in a client's defaults. */
export function resolveReconnect(
  value: unknown,
  defaults: { policy: () => RetryPolicy; stableAfterMs: number },
  field = 'reconnect',
): ResolvedReconnect {
  if (value === undefined) return { policy: defaults.policy(), stableAfterMs: defaults.stableAfterMs };
  if (typeof value !== 'object' || value === null) {
    throw new ValidationError(field, `must be an object { policy, stableAfterMs }, got ${showValue(value)}`);
  }
  const reconnect = value as ReconnectOptions;
  return {
    policy: retryPolicyOption(`${field}.policy`, reconnect.policy, defaults.policy),
    stableAfterMs: durationMs(`${field}.stableAfterMs`, reconnect.stableAfterMs, defaults.stableAfterMs),
  };
}

/**
 * Checks the two per-call options every method shares (`signal`, `timeoutMs`) before any I/O; `field` prefixes
 * the names in errors (`options.timeoutMs`; `''` for bare names). Returns the options.
 */
export function validateCallOptions<T>(options: T, field = 'options'): T {
  if (options === undefined) return options;
  if (typeof options !== 'object' || options === null) throw new ValidationError(field || 'options', 'must be an object');
  const { signal, timeoutMs } = options as CallOptions;
  const name = (key: string) => (field === '' ? key : `${field}.${key}`);
  durationMs(name('timeoutMs'), timeoutMs);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ValidationError(name('signal'), 'must be an AbortSignal');
  }
  return options;
}
