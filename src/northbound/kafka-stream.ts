/**
 * One iteration of `KafkaNorthbound.telemetry()` / `events()`: a kafkajs consumer on `hono.<kind>.<tenant>`
 * in its own group, feeding a bounded queue that the `for await` loop drains.
 *
 * At-least-once: a record counts as processed only when the loop asks for the next one (its body finished).
 * Processed offsets are committed by an `OffsetCommitter` (batched, retried after failures) and flushed when the
 * loop ends. If the body throws or breaks out, the record it was working on is not committed; the consumer leaves
 * the group and the next consumer of the group gets that record again.
 *
 * Back-pressure: when `prefetch` records wait in the queue, the batch handler waits (heartbeating, so the
 * group does not evict a consumer behind a slow loop) and kafkajs fetches nothing more, so memory stays at
 * `prefetch` records plus the fetch response kafkajs already holds. Pausing the partition instead would
 * throw away the rest of the fetched batch and fetch it again for every `prefetch` records.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { ReconnectingEvent } from '../core/events.js';
import { ReconnectBackoff } from '../core/reconnect-backoff.js';
import { downstreamMessage, numberProperty, parseCreationTime } from './decode.js';
import { type KafkaCommitError, KafkaConsumerError, KafkaConsumerNotRunningError, MalformedMessageError } from './errors.js';
import { OffsetCommitter, type PartitionOffset } from './kafka-commit.js';
import { decodeHeaders, HEADER } from './kafka-headers.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';
import { honoTopic, subscribeCreatingTopic } from './kafka-topics.js';
import type { DeviceNotification, DownstreamKind, DownstreamMessage } from './types.js';

/** What a stream needs from its client. */
export interface StreamHost {
  readonly kafka: Kafka;
  readonly options: ResolvedKafkaOptions;
  /** A record could not be decoded; the stream goes on. */
  malformed(error: MalformedMessageError): void;
  notification(notification: DeviceNotification): void;
  /** The consumer failed; it is started again unless the reconnect policy gave up. */
  consumerLost(error: Error, willReconnect: boolean): void;
  reconnecting(event: ReconnectingEvent): void;
  consumerRecovered(): void;
  /** Offset commits have failed for `commitErrorAfterMs`; the stream goes on. */
  commitsFailing(error: KafkaCommitError): void;
  /** Watches a consumer's requests: any answer from Kafka shows that it is reachable. */
  watch(consumer: Consumer): void;
  /** The iteration ended (for any reason); the client forgets it. */
  ended(stream: KafkaDownstreamStream): void;
}

interface Entry {
  partition: number;
  offset: number;
  message: KafkaMessage;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };
const SHUTDOWN_COMMIT_WAIT_MS = 5_000;

export class KafkaDownstreamStream implements AsyncIterator<DownstreamMessage>, AsyncIterable<DownstreamMessage> {
  readonly topic: string;
  readonly groupId: string;
  private readonly prefetch: number;
  private readonly resumeAt: number;

  private queue: Entry[] = [];
  private head = 0;
  private inFlight: Entry | undefined;
  /** Per partition: the offset after the last record queued (records below it are duplicates after a rejoin). */
  private readonly nextExpected = new Map<number, number>();
  private readonly committer: OffsetCommitter;
  /** Commits kafkajs confirmed (its COMMIT_OFFSETS event); see `sendCommit`. */
  private confirmedCommits = 0;

  private consumer: Consumer | undefined;
  private started = false;
  private finished = false;
  private failure: Error | undefined;
  /** Restarts of the consumer; the count resets once a restarted consumer stayed in its group `stableAfterMs`. */
  private readonly backoff: ReconnectBackoff;
  private recovering = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private dataWaiter: (() => void) | undefined;
  private spaceWaiter: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private readonly onAbort = () => void this.shutdown();

  constructor(
    private readonly host: StreamHost,
    readonly kind: DownstreamKind,
    readonly tenantId: string,
    prefetch: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.topic = honoTopic(kind, tenantId);
    this.groupId = `${host.options.groupId}.${kind}.${tenantId}`;
    this.prefetch = prefetch;
    this.resumeAt = Math.max(0, Math.floor(prefetch / 2));
    this.backoff = new ReconnectBackoff(host.options.reconnect.policy, host.options.reconnect.stableAfterMs);
    const { logger, commitIntervalMs, commitThreshold, commitErrorAfterMs } = host.options;
    this.committer = new OffsetCommitter({
      topic: this.topic,
      groupId: this.groupId,
      logger,
      commitIntervalMs,
      commitThreshold,
      commitErrorAfterMs,
      send: (offsets) => this.sendCommit(offsets),
      failing: (error) => host.commitsFailing(error),
    });
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Records waiting in the queue (not counting the one the loop is working on). */
  get buffered(): number {
    return this.queue.length - this.head;
  }

  async next(): Promise<IteratorResult<DownstreamMessage>> {
    if (this.signal?.aborted) {
      await this.shutdown();
      return DONE;
    }
    if (this.inFlight !== undefined) {
      this.markProcessed(this.inFlight);
      this.inFlight = undefined;
    }
    for (;;) {
      if (this.failure !== undefined) {
        const failure = this.failure;
        await this.shutdown();
        throw failure;
      }
      if (this.finished) return DONE;
      const entry = this.shift();
      if (entry !== undefined) {
        const message = this.decode(entry);
        if (message === undefined) {
          this.markProcessed(entry);
          continue;
        }
        this.inFlight = entry;
        if (message.notification !== undefined) this.host.notification(message.notification);
        return { done: false, value: message };
      }
      if (!this.started) {
        this.started = true;
        void this.startConsumer();
      }
      await new Promise<void>((resolve) => {
        this.dataWaiter = resolve;
      });
    }
  }

  /** The loop broke out or threw: the record in flight stays unacknowledged. */
  async return(): Promise<IteratorResult<DownstreamMessage>> {
    await this.shutdown();
    return DONE;
  }

  async throw(error?: unknown): Promise<IteratorResult<DownstreamMessage>> {
    await this.shutdown();
    throw error;
  }

  /** Records processed but not covered by a successful commit yet. */
  get uncommittedRecords(): number {
    return this.committer.uncommittedRecords;
  }

  /** Ends the iteration: commits what was processed, leaves the group. Idempotent. */
  shutdown(): Promise<void> {
    this.closing ??= this.doShutdown();
    return this.closing;
  }

  private async doShutdown(): Promise<void> {
    this.finished = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    clearTimeout(this.restartTimer);
    this.backoff.reset();
    this.wakeData();
    this.wakeSpace();
    const consumer = this.consumer;
    if (consumer !== undefined) {
      // Bounded: with the broker gone, a commit would wait for kafkajs' retries; the records it would have
      // committed are then simply delivered again.
      let timer: NodeJS.Timeout | undefined;
      const committed = await Promise.race([
        this.committer.flush(),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), SHUTDOWN_COMMIT_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (!committed) {
        this.host.options.logger.warn(
          'the final offset commit of a Kafka stream did not succeed; the next consumer of the group gets those records again',
          {
            topic: this.topic,
            groupId: this.groupId,
            uncommittedRecords: this.committer.uncommittedRecords,
          },
        );
      }
      await consumer.disconnect().catch((error: unknown) => {
        this.host.options.logger.warn('Kafka consumer did not disconnect cleanly', { topic: this.topic, error });
      });
    }
    this.committer.stop();
    this.queue = [];
    this.head = 0;
    this.inFlight = undefined;
    this.host.ended(this);
  }

  private shift(): Entry | undefined {
    if (this.head >= this.queue.length) return undefined;
    const entry = this.queue[this.head]!;
    this.head += 1;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.buffered <= this.resumeAt) this.wakeSpace();
    return entry;
  }

  private wakeData(): void {
    const waiter = this.dataWaiter;
    this.dataWaiter = undefined;
    waiter?.();
  }

  private wakeSpace(): void {
    const waiter = this.spaceWaiter;
    this.spaceWaiter = undefined;
    waiter?.();
  }

  /** The message, or `undefined` for a record that is skipped (malformed: reported; expired `ttl`). */
  private decode(entry: Entry): DownstreamMessage | undefined {
    const { message } = entry;
    try {
      const properties = decodeHeaders(message.headers);
      const downstream = downstreamMessage({
        kind: this.kind,
        tenantId: this.tenantId,
        deviceId: properties[HEADER.deviceId],
        contentType: typeof properties[HEADER.contentType] === 'string' ? (properties[HEADER.contentType] as string) : undefined,
        payload: message.value ?? new Uint8Array(0),
        creationTime: properties[HEADER.creationTime],
        properties,
        sourceId: `${this.topic}/${entry.partition}/${entry.offset}`,
      });
      if (this.host.options.discardExpired && isExpired(properties[HEADER.ttl], properties[HEADER.creationTime])) {
        this.host.options.logger.debug('dropping a record whose ttl has elapsed', {
          topic: this.topic,
          partition: entry.partition,
          offset: entry.offset,
        });
        return undefined;
      }
      return downstream;
    } catch (error) {
      const malformed =
        error instanceof MalformedMessageError
          ? error
          : new MalformedMessageError(
              `record ${this.topic}/${entry.partition}@${entry.offset} cannot be decoded: ${(error as Error).message}`,
              error,
            );
      this.host.options.logger.warn('skipping a malformed record', {
        topic: this.topic,
        partition: entry.partition,
        offset: entry.offset,
        error: malformed.message,
      });
      this.host.malformed(malformed);
      return undefined;
    }
  }

  private markProcessed(entry: Entry): void {
    if (this.finished) return;
    this.committer.processed(entry.partition, entry.offset);
  }

  /**
   * One commit through the current consumer. kafkajs resolves without committing anything when its consumer is
   * not running (joining its group for the first time, stopping after a crash), so only its COMMIT_OFFSETS event
   * shows that Kafka took the offsets.
   */
  private async sendCommit(offsets: PartitionOffset[]): Promise<void> {
    const consumer = this.consumer;
    if (consumer === undefined) throw new KafkaConsumerNotRunningError(this.topic, 'no consumer: it is being started again');
    const confirmed = this.confirmedCommits;
    await consumer.commitOffsets(offsets.map(({ partition, offset }) => ({ topic: this.topic, partition, offset })));
    if (this.confirmedCommits === confirmed) {
      throw new KafkaConsumerNotRunningError(
        this.topic,
        'kafkajs did not send the commit: its consumer is not running (joining the group or stopping)',
      );
    }
  }

  private async startConsumer(): Promise<void> {
    if (this.finished) return;
    const { kafka, options } = this.host;
    const consumer = kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      maxWaitTimeInMs: options.fetchMaxWaitMs,
      allowAutoTopicCreation: true,
      retry: { restartOnFailure: async () => false },
    });
    this.consumer = consumer;
    this.host.watch(consumer);
    consumer.on(consumer.events.COMMIT_OFFSETS, () => {
      this.confirmedCommits += 1;
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => this.onGroupJoin(event.payload.memberAssignment[this.topic] ?? []));
    consumer.on(consumer.events.CRASH, (event) => {
      if (this.consumer === consumer) this.onCrash(event.payload.error);
    });
    // The stream may end (or the consumer crash) during any of these steps; a consumer still connecting
    // when `disconnect()` ran would otherwise open its sockets again and keep them.
    const abandoned = () => this.finished || this.consumer !== consumer;
    try {
      await consumer.connect();
      if (!abandoned()) await subscribeCreatingTopic(consumer, this.topic, options.fromBeginning);
      if (!abandoned()) {
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: (payload) => this.onBatch(payload),
        });
      }
    } catch (error) {
      if (!abandoned()) this.onCrash(error as Error);
    }
    if (abandoned()) await consumer.disconnect().catch(() => undefined);
  }

  private onGroupJoin(partitions: number[]): void {
    const assigned = new Set(partitions);
    for (const partition of [...this.nextExpected.keys()]) if (!assigned.has(partition)) this.nextExpected.delete(partition);
    this.committer.retain(assigned);
    // Records of partitions another member now owns will be delivered there.
    const kept = this.queue.slice(this.head).filter((entry) => assigned.has(entry.partition));
    this.queue = kept;
    this.head = 0;
    this.backoff.connected();
    if (this.recovering) {
      this.recovering = false;
      this.host.consumerRecovered();
    }
  }

  private onCrash(error: Error): void {
    if (this.finished) return;
    const consumer = this.consumer;
    this.consumer = undefined;
    void consumer?.disconnect().catch(() => undefined);
    this.recovering = true;
    this.backoff.disconnected();
    const delayMs = this.backoff.next(error);
    this.host.consumerLost(error, delayMs !== undefined);
    if (delayMs === undefined) {
      this.failure = new KafkaConsumerError(this.topic, error);
      this.wakeData();
      return;
    }
    this.host.reconnecting({ attempt: this.backoff.attempts, delayMs, error });
    this.restartTimer = setTimeout(() => void this.startConsumer(), delayMs);
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { partition } = batch;
    if (this.finished || !isRunning() || isStale()) return;
    // kafkajs parses every resolved offset into a Long: resolve once before each wait and at the end,
    // not per record.
    let lastQueued: string | undefined;
    const resolveQueued = () => {
      if (lastQueued !== undefined) resolveOffset(lastQueued);
      lastQueued = undefined;
    };
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      const expected = this.nextExpected.get(partition);
      if (expected !== undefined && offset < expected) {
        lastQueued = message.offset;
        continue;
      }
      if (this.queue.length - this.head >= this.prefetch) {
        resolveQueued();
        while (this.buffered >= this.prefetch) {
          await this.waitForSpace(this.host.options.heartbeatIntervalMs);
          if (this.finished || !isRunning() || isStale()) return;
          // Throws while the group rebalances; kafkajs then rejoins and fetches again.
          if (this.buffered >= this.prefetch) await heartbeat();
        }
      }
      this.queue.push({ partition, offset, message });
      this.nextExpected.set(partition, offset + 1);
      lastQueued = message.offset;
      if (this.dataWaiter !== undefined) this.wakeData();
    }
    resolveQueued();
    await heartbeat();
  }

  private waitForSpace(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.spaceWaiter === done) this.spaceWaiter = undefined;
        resolve();
      }, ms);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.spaceWaiter = done;
    });
  }
}

function isExpired(ttl: unknown, creationTime: unknown): boolean {
  const ttlMs = numberProperty(typeof ttl === 'number' || typeof ttl === 'string' ? ttl : undefined);
  if (ttlMs === undefined) return false;
  const created = parseCreationTime(creationTime);
  if (created === undefined) return false;
  return created.getTime() + ttlMs < Date.now();
}
