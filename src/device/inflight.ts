/** What the in-flight list links: a message with its MQTT packet id and the two links the list maintains. */
export interface InflightEntry<T> {
  messageId: number;
  newer: T | undefined;
  older: T | undefined;
  linked: boolean;
}

/**
 * The QoS 1 messages awaiting their PUBACK, oldest first. An intrusive doubly linked list rather than a
 * `Map<packetId, message>`: adding and removing are the per-message cost of every QoS 1 publish, and the
 * Map's hash-table churn measured as a tenth of the SDK's publish throughput. Finding a message by packet id
 * is a walk, which only the adapter's (rare) error-topic reports need.
 */
export class InflightList<T extends InflightEntry<T>> {
  private oldest: T | undefined;
  private newest: T | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(entry: T): void {
    if (entry.linked) return;
    entry.linked = true;
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest === undefined) this.oldest = entry;
    else this.newest.newer = entry;
    this.newest = entry;
    this.count += 1;
  }

  /** Unlinks the entry; false when it was not in the list (already removed or drained). */
  remove(entry: T): boolean {
    if (!entry.linked) return false;
    entry.linked = false;
    if (entry.older === undefined) this.oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) this.newest = entry.older;
    else entry.newer.older = entry.older;
    entry.older = undefined;
    entry.newer = undefined;
    this.count -= 1;
    return true;
  }

  /**
   * The message sent with this packet id, if it still awaits its PUBACK (mqtt.js frees an id only with its
   * PUBACK, so ids are unique here). From the oldest: the adapter reports in send order, just before the PUBACK.
   */
  find(messageId: number): T | undefined {
    if (messageId <= 0) return undefined;
    for (let entry = this.oldest; entry !== undefined; entry = entry.newer) {
      if (entry.messageId === messageId) return entry;
    }
    return undefined;
  }

  /** Empties the list and returns what it held, oldest first. */
  drain(): T[] {
    const entries: T[] = [];
    let entry = this.oldest;
    while (entry !== undefined) {
      const next: T | undefined = entry.newer;
      entry.linked = false;
      entry.older = undefined;
      entry.newer = undefined;
      entries.push(entry);
      entry = next;
    }
    this.oldest = undefined;
    this.newest = undefined;
    this.count = 0;
    return entries;
  }
}
