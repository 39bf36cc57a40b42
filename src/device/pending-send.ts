import { AbortError, TimeoutError } from '../core/errors.js';
import { timerDelay } from '../core/timers.js';
import type { MessageKind } from './errors.js';

// A shared executor instead of a closure per message: this is on the hot path of every publish.
let capturedResolve: () => void = () => undefined;
let capturedReject: (error: Error) => void = () => undefined;
function capture(resolve: () => void, reject: (error: Error) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/**
 * One outgoing message (telemetry, event, command response) on its way: queued, in flight, or waiting for a
 * retry. Settles once; `detach` removes whatever the sender hooked to the caller's signal or deadline.
 */
export abstract class PendingSend {
  queued = false;
  settled = false;
  retries = 0;
  detach: (() => void) | undefined;
  readonly promise: Promise<void>;
  private readonly resolveFn: () => void;
  private readonly rejectFn: (error: Error) => void;

  constructor(readonly kind: MessageKind) {
    this.promise = new Promise<void>(capture);
    this.resolveFn = capturedResolve;
    this.rejectFn = capturedReject;
  }

  succeed(): void {
    if (this.settled) return;
    this.settled = true;
    this.detach?.();
    this.resolveFn();
  }

  /**
   * Calls `giveUp` when the caller's signal aborts or its deadline passes (`what` names the message in the
   * error); settling undoes both. A message already sent may still arrive.
   */
  watch(options: { signal?: AbortSignal; timeoutMs?: number }, what: string, giveUp: (error: Error) => void): void {
    const { signal, timeoutMs } = options;
    const onAbort = () => giveUp(new AbortError(what, signal?.reason));
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => giveUp(new TimeoutError(what, timeoutMs)), timerDelay(timeoutMs));
    this.detach = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  }

  fail(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.detach?.();
    this.rejectFn(error);
  }
}
