// Chaincode events served from a checkpoint the way the Fabric gateway serves them, for fake gateway networks.
import type { GatewayChaincodeEvent, GatewayEventsOptions, GatewayEventStream } from '../../src/ledger/index.js';

export class FakeChaincodeEventLog {
  readonly events: GatewayChaincodeEvent[] = [];
  private readonly waiters: Array<() => void> = [];

  /** The block of the newest event (0 when there is none). */
  get lastBlock(): bigint {
    return this.events.at(-1)?.blockNumber ?? 0n;
  }

  append(event: GatewayChaincodeEvent): void {
    this.events.push(event);
    for (const wake of this.waiters.splice(0)) wake();
  }

  /**
   * A stream that starts at the checkpoint (after its transaction), else at `startBlock`, else at the next
   * block, and waits for new events. With `failure`, it throws `failure.error()` after yielding `failure.after` events.
   */
  open(options: GatewayEventsOptions = {}, failure?: { after: number; error: () => Error }): GatewayEventStream {
    const start = options.checkpoint?.getBlockNumber() ?? options.startBlock ?? this.lastBlock + 1n;
    const after = options.checkpoint?.getTransactionId();
    let index = this.events.findIndex((e) => e.blockNumber >= start);
    if (index < 0) index = this.events.length;
    if (after) {
      const at = this.events.findIndex((e, i) => i >= index && e.blockNumber === start && e.transactionId === after);
      if (at >= 0) index = at + 1;
    }
    let closed = false;
    const { events, waiters } = this;
    return {
      close: () => {
        closed = true;
        for (const wake of waiters.splice(0)) wake();
      },
      async *[Symbol.asyncIterator]() {
        let yielded = 0;
        while (!closed) {
          if (failure !== undefined && yielded === failure.after) throw failure.error();
          const event = events[index];
          if (event) {
            index += 1;
            yielded += 1;
            yield event;
          } else {
            await new Promise<void>((resolve) => waiters.push(resolve));
          }
        }
      },
    };
  }
}
