import { type MessageKind, OfflineQueueFullError } from './errors.js';
import type { ResolvedOfflineQueue } from './options.js';

/** What the queue holds: a message with a way to fail it. The queue maintains `queued`. */
export interface Queueable {
  readonly kind: MessageKind;
  queued: boolean;
  fail(error: Error): void;
}

/**
 * A bounded FIFO for messages waiting for the adapter. Full → `OfflineQueueFullError` for the new message
 * (`overflow: 'reject'`) or for the oldest one (`'drop-oldest'`). Messages already admitted (requeued after
 * a lost connection, waiting for a retry) may exceed the bound: they were accepted once and are never
 * dropped for room.
 */
export class OfflineQueue<T extends Queueable> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private live = 0;

  constructor(private readonly policy: ResolvedOfflineQueue) {}

  get size(): number {
    return this.live;
  }

  get maxSize(): number {
    return this.policy.maxSize;
  }

  /** Adds a new message; throws `OfflineQueueFullError` when it is refused. */
  push(item: T): void {
    if (this.live >= this.policy.maxSize) {
      if (this.policy.overflow === 'reject') throw new OfflineQueueFullError(item.kind, this.policy.maxSize, 'rejected');
      const oldest = this.shift();
      oldest?.fail(new OfflineQueueFullError(oldest.kind, this.policy.maxSize, 'evicted'));
    }
    item.queued = true;
    this.items.push(item);
    this.live += 1;
  }

  /** Puts admitted messages back at the front, in the given order (oldest first). */
  requeue(items: readonly T[]): void {
    if (items.length === 0) return;
    const rest = this.items.slice(this.head);
    const front: T[] = [];
    for (const item of items) {
      if (item.queued) continue;
      item.queued = true;
      front.push(item);
      this.live += 1;
    }
    this.items = [...front, ...rest];
    this.head = 0;
  }

  /** The oldest waiting message, left in the queue. */
  peek(): T | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head];
      if (item !== undefined && item.queued) return item;
      this.items[this.head] = undefined; // discarded while waiting
      this.head += 1;
    }
    return undefined;
  }

  /** The oldest waiting message, removed from the queue. */
  shift(): T | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head];
      this.items[this.head] = undefined;
      this.head += 1;
      if (item !== undefined && item.queued) {
        item.queued = false;
        this.live -= 1;
        this.compact();
        return item;
      }
    }
    this.items = [];
    this.head = 0;
    return undefined;
  }

  /** Forgets a message that was aborted or timed out while waiting. */
  discard(item: T): void {
    if (!item.queued) return;
    item.queued = false;
    this.live -= 1;
    // Discarded entries stay in the array until shifted; behind a head that never leaves, drop them now.
    if (this.items.length - this.head > 2 * this.live + 64) {
      this.items = this.items.slice(this.head).filter((entry) => entry !== undefined && entry.queued);
      this.head = 0;
    }
  }

  /** Removes and returns everything still waiting, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    return out;
  }

  private compact(): void {
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
