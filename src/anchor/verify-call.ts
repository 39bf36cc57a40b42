/**
 * One verification call and its end: the caller's `signal` and `timeoutMs` (a deadline for the whole call) become one
 * signal, passed to every ledger and store read, and the call rejects with `AbortError` / `TimeoutError` as soon as it
 * fires, even when a read ignores signals. A read that fails on its own is the caller's to judge (`run` rethrows it).
 */
import { setMaxListeners } from 'node:events';
import { raceAbort } from '../core/abort.js';
import { AbortError, TimeoutError } from '../core/errors.js';
import type { CallOptions } from '../core/options.js';
import { timerDelay } from '../core/timers.js';

export interface VerifyCall {
  /** Fires when the caller's signal does or the deadline passes. */
  readonly signal: AbortSignal;
  /** Reads `work` with the call's signal; throws how the call ended if it ended meanwhile. */
  run<T>(work: (options: CallOptions) => Promise<T>): Promise<T>;
  /** Throws how the call ended, if it has. */
  throwIfEnded(): void;
  /** Clears the deadline timer. */
  done(): void;
}

/** Starts a call; `options` must have been validated (`validateCallOptions`). */
export function beginCall(what: string, options: CallOptions): VerifyCall {
  const signals: AbortSignal[] = options.signal ? [options.signal] : [];
  let expired: TimeoutError | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (options.timeoutMs !== undefined) {
    const deadline = new AbortController();
    const timeoutMs = options.timeoutMs;
    expired = new TimeoutError(what, timeoutMs);
    timer = setTimeout(() => deadline.abort(expired), timerDelay(timeoutMs));
    signals.push(deadline.signal);
  }
  const signal = AbortSignal.any(signals);
  // A stream walk makes one read after another, each listening to this signal.
  setMaxListeners(0, signal);
  const ended = (): Error => (expired !== undefined && signal.reason === expired ? expired : new AbortError(what, signal.reason));
  return {
    signal,
    async run<T>(work: (options: CallOptions) => Promise<T>): Promise<T> {
      if (signal.aborted) throw ended();
      try {
        // async: a read that throws at once rejects like one that fails later.
        return await raceAbort((async () => work({ signal }))(), signal, ended);
      } catch (error) {
        if (signal.aborted) throw ended();
        throw error;
      }
    },
    throwIfEnded() {
      if (signal.aborted) throw ended();
    },
    done: () => clearTimeout(timer),
  };
}
