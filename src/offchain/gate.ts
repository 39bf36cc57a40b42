/**
 * Shared/exclusive access inside one store: puts and pins share it, garbage collection takes it alone (it must not
 * delete the blocks of a put whose pin is not written yet). A waiting exclusive holder keeps new shared ones out.
 */
export class Gate {
  private shared = 0;
  private exclusive = false;
  private waiters: Array<() => void> = [];

  async enterShared(signal: AbortSignal): Promise<() => void> {
    await this.until(() => !this.exclusive, signal);
    this.shared += 1;
    return this.once(() => {
      this.shared -= 1;
    });
  }

  async enterExclusive(signal: AbortSignal): Promise<() => void> {
    await this.until(() => !this.exclusive, signal);
    this.exclusive = true;
    try {
      await this.until(() => this.shared === 0, signal);
    } catch (error) {
      this.exclusive = false;
      this.wake();
      throw error;
    }
    return this.once(() => {
      this.exclusive = false;
    });
  }

  private once(release: () => void): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      this.wake();
    };
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  private async until(ready: () => boolean, signal: AbortSignal): Promise<void> {
    while (!ready()) {
      signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}
