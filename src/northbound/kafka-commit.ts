/**
 * The offset commits of one Kafka stream: the highest processed offset per partition, committed one commit at a
 * time, batched (`commitThreshold` records / `commitIntervalMs`).
 *
 * A failed commit puts its offsets back and is tried again `commitIntervalMs` later, together with whatever was
 * processed meanwhile; it never holds up the commits after it (a commit is a position, so a later one covers an
 * earlier one that failed). While commits fail, new records do not trigger extra attempts, so a broker that is
 * down is asked once per `commitIntervalMs`. When commits have failed for `commitErrorAfterMs` without a success,
 * the host is told once per such run (`KafkaCommitError`); the stream goes on and keeps trying.
 */
import type { Logger } from '../core/logger.js';
import { KafkaCommitError } from './errors.js';

/** The next offset to read, per partition (what Kafka stores as the group's position). */
export interface PartitionOffset {
  partition: number;
  offset: string;
}

export interface CommitterHost {
  readonly topic: string;
  readonly groupId: string;
  readonly logger: Logger;
  readonly commitIntervalMs: number;
  readonly commitThreshold: number;
  readonly commitErrorAfterMs: number;
  /** Writes the offsets; rejects unless Kafka confirmed them. */
  send(offsets: PartitionOffset[]): Promise<void>;
  /** Commits have failed for `commitErrorAfterMs`. */
  failing(error: KafkaCommitError): void;
}

export class OffsetCommitter {
  /** Per partition: the highest processed offset not committed yet. */
  private readonly pending = new Map<number, number>();
  private assigned: ReadonlySet<number> | undefined;
  /** Records processed since the last commit started (for `commitThreshold`). */
  private sinceLastAttempt = 0;
  private processedTotal = 0;
  /** `processedTotal` when the last successful commit started: what it covered. */
  private committedTotal = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private queued: Promise<boolean> | undefined;
  private failingSince: number | undefined;
  private failedAttempts = 0;
  private lastError: unknown;
  private errorTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly host: CommitterHost) {}

  /** Records processed but not (yet) covered by a successful commit. */
  get uncommittedRecords(): number {
    return this.processedTotal - this.committedTotal;
  }

  /** True while commits fail (from the first failure to the next success). */
  get failing(): boolean {
    return this.failingSince !== undefined;
  }

  /** The loop finished with the record at `offset` of `partition`. */
  processed(partition: number, offset: number): void {
    if (this.stopped) return;
    if (this.assigned !== undefined && !this.assigned.has(partition)) return;
    this.pending.set(partition, offset);
    this.processedTotal += 1;
    this.sinceLastAttempt += 1;
    if (!this.failing && this.sinceLastAttempt >= this.host.commitThreshold) void this.flush();
    else this.schedule();
  }

  /** After a rebalance only `partitions` are ours: the others' offsets are another member's to commit. */
  retain(partitions: ReadonlySet<number>): void {
    this.assigned = partitions;
    for (const partition of [...this.pending.keys()]) if (!partitions.has(partition)) this.pending.delete(partition);
    // Not at once: during a new consumer's first join kafkajs is not "running" yet and drops commits. (While
    // failing with nothing of ours left, the next attempt ends the run of failures.)
    if (this.pending.size > 0 || this.failing) this.schedule();
  }

  /**
   * Commits everything processed so far: right away, or after the commit that is running (then with everything
   * processed until it ended). Resolves true when that commit succeeded (or there was nothing to commit); never
   * rejects.
   */
  flush(): Promise<boolean> {
    this.clearTimer();
    if (this.queued !== undefined) return this.queued;
    if (this.inFlight !== undefined) {
      const queued = this.inFlight.then(() => {
        this.queued = undefined;
        return this.run();
      });
      this.queued = queued;
      return queued;
    }
    return this.run();
  }

  /** No more scheduled commits or reports (the stream ended). */
  stop(): void {
    this.stopped = true;
    this.clearTimer();
    clearTimeout(this.errorTimer);
    this.errorTimer = undefined;
  }

  private run(): Promise<boolean> {
    const attempt = this.attempt();
    const settled = attempt.then(() => undefined);
    this.inFlight = settled;
    void settled.then(() => {
      if (this.inFlight === settled) this.inFlight = undefined;
    });
    return attempt;
  }

  private async attempt(): Promise<boolean> {
    if (this.pending.size === 0) {
      // Nothing of ours left to commit (e.g. the partitions went to another member): no longer failing either.
      this.succeeded(this.processedTotal);
      return true;
    }
    const snapshot = new Map(this.pending);
    const covers = this.processedTotal;
    this.pending.clear();
    this.sinceLastAttempt = 0;
    const offsets = [...snapshot].map(([partition, offset]) => ({ partition, offset: String(offset + 1) }));
    try {
      await this.host.send(offsets);
    } catch (error) {
      for (const [partition, offset] of snapshot) {
        if (this.assigned !== undefined && !this.assigned.has(partition)) continue;
        const newer = this.pending.get(partition);
        if (newer === undefined || newer < offset) this.pending.set(partition, offset);
      }
      this.failed(error);
      return false;
    }
    this.succeeded(covers);
    return true;
  }

  private succeeded(covers: number): void {
    if (covers > this.committedTotal) this.committedTotal = covers;
    clearTimeout(this.errorTimer);
    this.errorTimer = undefined;
    if (this.failingSince !== undefined) {
      this.host.logger.info('Kafka offset commits work again', {
        topic: this.host.topic,
        groupId: this.host.groupId,
        failedAttempts: this.failedAttempts,
        failedForMs: Date.now() - this.failingSince,
      });
    }
    this.failingSince = undefined;
    this.failedAttempts = 0;
    this.lastError = undefined;
  }

  private failed(error: unknown): void {
    this.failedAttempts += 1;
    this.lastError = error;
    const fields = {
      topic: this.host.topic,
      groupId: this.host.groupId,
      attempt: this.failedAttempts,
      uncommittedRecords: this.uncommittedRecords,
      error,
    };
    if (this.failingSince === undefined) {
      this.failingSince = Date.now();
      this.host.logger.warn(`committing Kafka offsets failed; trying again every ${this.host.commitIntervalMs} ms`, fields);
      if (!this.stopped) this.errorTimer = setTimeout(() => this.report(), this.host.commitErrorAfterMs);
    } else {
      this.host.logger.debug('committing Kafka offsets failed again', fields);
    }
    this.schedule();
  }

  private report(): void {
    this.errorTimer = undefined;
    if (this.stopped || this.failingSince === undefined) return;
    this.host.failing(
      new KafkaCommitError({
        topic: this.host.topic,
        groupId: this.host.groupId,
        failedAttempts: this.failedAttempts,
        failingForMs: Date.now() - this.failingSince,
        uncommittedRecords: this.uncommittedRecords,
        cause: this.lastError,
      }),
    );
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.host.commitIntervalMs);
  }

  private clearTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
