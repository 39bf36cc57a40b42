import { setMaxListeners } from 'node:events';
import { type Call, beginCall } from '../core/call.js';
import { ClientClosedError } from '../core/errors.js';
import { type CallOptions, validateCallOptions } from '../core/options.js';

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
    const closing = this.closing.signal;
    return beginCall(what, options, {
      defaultTimeoutMs: this.defaultTimeoutMs,
      alsoOn: closing,
      endedBy: (reason) => (closing.aborted && reason === closing.reason ? new ClientClosedError(this.client, what) : undefined),
    });
  }

  /** Runs `work` as one call: resolves with it, or rejects with how the call was cut short, or with its error. */
  async run<T>(what: string, options: CallOptions | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const call = this.begin(what, options);
    // Tracked apart from the call: work cut short for the caller may still be unwinding when close() waits for it.
    const task = (async () => work(call.signal))();
    this.track(task);
    try {
      return await call.run(() => task);
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
