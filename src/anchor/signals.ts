import { beginCall } from '../core/call.js';
import { ClientClosedError } from '../core/errors.js';

/**
 * Wakes everyone waiting for a change (records anchored, room in the backlog). A waiter re-checks its condition after
 * each wake-up; `wait` resolves on the next change, or rejects on the caller's signal, the deadline or `close()`.
 */
export class ChangeSignal {
  private waiters = new Set<() => void>();
  private closedError: (() => Error) | undefined;

  notify(): void {
    const waiting = this.waiters;
    this.waiters = new Set();
    for (const wake of waiting) wake();
  }

  /** Ends every wait with the given error; later waits fail with it at once. */
  close(error: () => Error): void {
    this.closedError = error;
    this.notify();
  }

  /** Waits until `ready()` returns a value (checked now and after each change). */
  async until<T>(what: string, ready: () => T | undefined, options: { signal?: AbortSignal; timeoutMs: number }): Promise<T> {
    const call = beginCall(what, options);
    try {
      for (;;) {
        const value = ready();
        if (value !== undefined) return value;
        if (this.closedError !== undefined) throw this.closedError();
        call.throwIfEnded();
        await new Promise<void>((resolve) => {
          const done = () => {
            call.signal.removeEventListener('abort', done);
            this.waiters.delete(done);
            resolve();
          };
          call.signal.addEventListener('abort', done, { once: true });
          this.waiters.add(done);
        });
      }
    } finally {
      call.done();
    }
  }
}

export function closedError(what: string): () => Error {
  return () => new ClientClosedError('Anchorer', what);
}
