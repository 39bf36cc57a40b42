import { setMaxListeners } from 'node:events';
import { raceAbort } from '../core/abort.js';
import { AbortError, ClientClosedError, TimeoutError } from '../core/errors.js';
import { type CallOptions, validateCallOptions } from '../core/options.js';
import { timerDelay } from '../core/timers.js';

/** One call in progress: its signal (the caller's, the deadline, `close()`), and the error for how it was cut short. */
export interface Call {
  readonly signal: AbortSignal;
  /** The error for the signal's reason: `AbortError`, `TimeoutError` or `ClientClosedError`. */
  ended(): Error;
  /** Clears the deadline timer. */
  done(): void;
}

/**
 * The calls of one store: each gets a signal that fires on the caller's `signal`, on its deadline (`timeoutMs`, or
 * the store's default) and on `close()`, which is final. Work that ignores signals is still cut short for the
 * caller (`raceAbort`); stores pass the signal down so the work itself stops too.
 */
export class CallScope {
  private readonly closing = new AbortController();
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly client: string,
    private readonly defaultTimeoutMs: number,
  ) {
    setMaxListeners(0, this.closing.signal);
  }

  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /** Starts a call; throws `ClientClosedError` after `close()`, and checks the options first. */
  begin(what: string, options: CallOptions | undefined): Call {
    validateCallOptions(options);
    if (this.closed) throw new ClientClosedError(this.client, what);
    const timeoutMs = options?.timeoutMs ?? this.defaultTimeoutMs;
    const deadline = new AbortController();
    // The reasons are errors, so that code below which throws `signal.reason` throws an Error.
    const expired = new TimeoutError(what, timeoutMs);
    const timer = setTimeout(() => deadline.abort(expired), timerDelay(timeoutMs));
    const signal = AbortSignal.any([this.closing.signal, deadline.signal, ...(options?.signal ? [options.signal] : [])]);
    // A put writes and a get reads many blocks at once, each listening to this signal: more than Node's default 10.
    setMaxListeners(0, signal);
    return {
      signal,
      ended: () => {
        if (this.closing.signal.aborted && signal.reason === this.closing.signal.reason) return new ClientClosedError(this.client, what);
        if (signal.reason === expired) return expired;
        return new AbortError(what, signal.reason);
      },
      done: () => clearTimeout(timer),
    };
  }

  /** Runs `work` as one call: resolves with it, or rejects with how the call was cut short, or with its error. */
  async run<T>(what: string, options: CallOptions | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const call = this.begin(what, options);
    const task = (async () => work(call.signal))();
    this.track(task);
    try {
      return await raceAbort(task, call.signal, call.ended);
    } catch (error) {
      if (call.signal.aborted) throw call.ended();
      throw error;
    } finally {
      call.done();
    }
  }

  /** Lets `settled()` wait for work that outlives its call (cut short, but still unwinding). */
  track(task: Promise<unknown>): void {
    this.running.add(task);
    const forget = () => this.running.delete(task);
    task.then(forget, forget);
  }

  /** Cuts every call short with `ClientClosedError`; later calls fail with it at once. */
  close(): void {
    this.closing.abort(new ClientClosedError(this.client, 'close()'));
  }

  /** Resolves once all tracked work has ended. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
