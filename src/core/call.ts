/**
 * One call and how it ends: the caller's `signal`, its deadline (`timeoutMs`, or a default) and any further signal
 * (a client's `close()`) become one signal, passed down to the work; the call rejects with `AbortError`,
 * `TimeoutError` (or the error `endedBy` names) as soon as that signal fires, even when the work ignores signals.
 */
import { setMaxListeners } from 'node:events';
import { raceAbort } from './abort.js';
import { AbortError, TimeoutError } from './errors.js';
import type { CallOptions } from './options.js';
import { timerDelay } from './timers.js';

export interface Call {
  readonly signal: AbortSignal;
  /** The error for how the call was cut short: `endedBy`'s, `TimeoutError` or `AbortError`. */
  ended(): Error;
  /** Throws `ended()` if the call was cut short. */
  throwIfEnded(): void;
  /** Runs `work` with the call's signal; rejects with `ended()` when the call is cut short meanwhile. */
  run<T>(work: (options: { signal: AbortSignal }) => Promise<T>): Promise<T>;
  /** Clears the deadline timer. */
  done(): void;
}

export interface CallSettings {
  /** Deadline when `options.timeoutMs` is not given; none when undefined. */
  defaultTimeoutMs?: number;
  /** A further signal that ends the call (a client's `close()`). */
  alsoOn?: AbortSignal;
  /** The error for a reason that is not the caller's abort or the deadline (e.g. `ClientClosedError` for `alsoOn`). */
  endedBy?: (reason: unknown) => Error | undefined;
}

/**
 * Starts a call; `options` must have been validated (`validateCallOptions`). `done()` must follow (in a `finally`): it
 * clears the deadline and stops listening to the other signals.
 */
export function beginCall(what: string, options: CallOptions | undefined, settings: CallSettings = {}): Call {
  // One controller that the sources abort, rather than AbortSignal.any(): that keeps weak references to every
  // signal it combines, which costs more than a small call itself (stores make thousands of calls a second).
  const controller = new AbortController();
  const signal = controller.signal;
  // Work under one call reads or writes many blocks or records at once, each listening to this signal.
  setMaxListeners(0, signal);
  const sources: AbortSignal[] = [];
  if (settings.alsoOn) sources.push(settings.alsoOn);
  if (options?.signal) sources.push(options.signal);
  const follow = (source: AbortSignal) => () => controller.abort(source.reason);
  const listeners = sources.map((source) => [source, follow(source)] as const);
  for (const [source, listener] of listeners) {
    if (signal.aborted) break;
    if (source.aborted) listener();
    else source.addEventListener('abort', listener, { once: true });
  }
  const timeoutMs = options?.timeoutMs ?? settings.defaultTimeoutMs;
  let expired: TimeoutError | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (timeoutMs !== undefined && !signal.aborted) {
    // The reasons are errors, so that code below which throws `signal.reason` throws an Error; made only when the
    // deadline passes (an error's stack costs more than the rest of a small call).
    timer = setTimeout(() => {
      expired = new TimeoutError(what, timeoutMs);
      controller.abort(expired);
    }, timerDelay(timeoutMs));
  }
  const ended = (): Error => {
    if (expired !== undefined && signal.reason === expired) return expired;
    return settings.endedBy?.(signal.reason) ?? new AbortError(what, signal.reason);
  };
  return {
    signal,
    ended,
    throwIfEnded() {
      if (signal.aborted) throw ended();
    },
    async run<T>(work: (options: { signal: AbortSignal }) => Promise<T>): Promise<T> {
      if (signal.aborted) throw ended();
      try {
        // async: work that throws at once rejects like work that fails later.
        return await raceAbort((async () => work({ signal }))(), signal, ended);
      } catch (error) {
        if (signal.aborted) throw ended();
        throw error;
      }
    },
    done() {
      clearTimeout(timer);
      for (const [source, listener] of listeners) source.removeEventListener('abort', listener);
    },
  };
}
