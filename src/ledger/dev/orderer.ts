/**
 * The ordering service of the dev ledger: transactions wait in arrival order and are cut into a block when
 * `maxTransactions` wait (Fabric's BatchSize.MaxMessageCount) or the oldest has waited `blockTimeoutMs` (BatchTimeout),
 * one block at a time — transactions that arrive while a block is being committed wait for the next, so concurrent
 * submitters share blocks.
 */

export interface OrdererOptions {
  maxTransactions: number;
  blockTimeoutMs: number;
}

interface Waiting<T, R> {
  item: T;
  arrivedAt: number;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export class Orderer<T, R> {
  private readonly queue: Array<Waiting<T, R>> = [];
  /** True while the cutting loop runs; cleared by the loop itself, in the same turn it sees the queue empty. */
  private active = false;
  private running: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private flushing = false;
  private stopped: Error | undefined;

  constructor(
    private readonly options: OrdererOptions,
    /** Commits one block; resolves with one result per item, in order. A rejection stops the orderer. */
    private readonly commit: (items: T[]) => Promise<R[]>,
    /** Turns the error of a failed commit into the error every waiting and later submitter gets. */
    private readonly onFailure: (error: unknown) => Error,
  ) {}

  /** Queues `item` for the next block; resolves with its result once that block is committed. */
  submit(item: T): Promise<R> {
    if (this.stopped) return Promise.reject(this.stopped);
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, arrivedAt: Date.now(), resolve, reject });
      if (this.queue.length >= this.options.maxTransactions) this.wake?.();
      if (!this.active) {
        this.active = true;
        this.running = this.cut();
      }
    });
  }

  /** Cuts what waits now, without waiting for the block timeout, and resolves once everything queued is committed. */
  async flush(): Promise<void> {
    this.flushing = true;
    this.wake?.();
    await this.running;
  }

  /** Rejects everything still waiting (after a flush, only what a failed commit left behind). */
  abandon(error: () => Error): void {
    for (const waiting of this.queue.splice(0)) waiting.reject(error());
  }

  private async cut(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const remaining = this.options.blockTimeoutMs - (Date.now() - (this.queue[0] as Waiting<T, R>).arrivedAt);
        if (!this.flushing && remaining > 0 && this.queue.length < this.options.maxTransactions) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, remaining);
            function done() {
              clearTimeout(timer);
              resolve();
            }
            this.wake = done;
          });
          this.wake = undefined;
          continue;
        }
        const batch = this.queue.splice(0, this.options.maxTransactions);
        try {
          const results = await this.commit(batch.map((waiting) => waiting.item));
          batch.forEach((waiting, index) => waiting.resolve(results[index] as R));
        } catch (error) {
          this.stopped = this.onFailure(error);
          for (const waiting of [...batch, ...this.queue.splice(0)]) waiting.reject(this.stopped);
        }
      }
    } finally {
      // In the same turn as the last look at the queue: a submit after this starts a new loop, none is left waiting.
      this.active = false;
    }
  }
}
