/**
 * Command responses over Kafka: one consumer per tenant on `hono.command_response.<tenant>`, in a group of
 * its own (unique per client, so another instance of the application never takes our responses), that
 * hands each response to the pending command with the same `correlation-id`.
 *
 * The consumer is positioned before the first command goes out: it reads the topic's end offsets first and
 * seeks there once it owns the partitions, so a response written after that point is never missed, however
 * long the group join takes, and old responses are not replayed.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { commandResponse, decodeText, DELIVERY_FAILURE_NOTIFICATION_CONTENT_TYPE, sameContentType } from './decode.js';
import {
  CommandFailedError,
  CommandRejectedError,
  type CommandTarget,
  DeviceNotConnectedError,
  type MalformedMessageError,
  NorthboundNotConnectedError,
} from './errors.js';
import { decodeHeaders, HEADER } from './kafka-headers.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';
import { honoTopic, isUnknownTopic, subscribeCreatingTopic } from './kafka-topics.js';
import type { CommandResponse } from './types.js';

export interface PendingCommand {
  target: CommandTarget;
  resolve(response: CommandResponse): void;
  reject(error: Error): void;
}

export interface ResponseHost {
  readonly kafka: Kafka;
  admin(): Admin;
  readonly options: ResolvedKafkaOptions;
  malformed(error: MalformedMessageError): void;
  /** Watches the consumer's requests: any answer from Kafka shows that it is reachable. */
  watch(consumer: Consumer): void;
  /** The consumer crashed (kafkajs may restart it). */
  crashed(error: Error): void;
  /** The consumer stopped for good (kafkajs did not restart it); the next command starts a new one. */
  responseConsumerLost(consumer: CommandResponseConsumer, error: Error): void;
}

/** Settles a pending command from a response record: resolve for 1xx–3xx, the matching `CommandError` otherwise. */
export function settleCommand(pending: PendingCommand, response: CommandResponse): void {
  if (sameContentType(response.contentType, DELIVERY_FAILURE_NOTIFICATION_CONTENT_TYPE)) {
    const detail = `${response.status}${deliveryFailureText(response.payload)}`;
    // Hono: 4xx = the command lacked information or exceeded a limit; 5xx = not delivered for reasons
    // the sender is not responsible for, above all "device not connected".
    if (response.status >= 400 && response.status < 500) pending.reject(new CommandRejectedError(pending.target, detail));
    else pending.reject(new DeviceNotConnectedError(pending.target, detail));
    return;
  }
  if (response.status >= 400) pending.reject(new CommandFailedError(pending.target, response));
  else pending.resolve(response);
}

function deliveryFailureText(payload: Uint8Array): string {
  if (payload.byteLength === 0) return '';
  try {
    const body = JSON.parse(decodeText(payload)) as { error?: unknown };
    if (typeof body === 'object' && body !== null && typeof body.error === 'string') return `: ${body.error}`;
  } catch {
    // not JSON: show the text itself
  }
  return `: ${decodeText(payload).slice(0, 200)}`;
}

export class CommandResponseConsumer {
  readonly topic: string;
  readonly groupId: string;
  private consumer: Consumer | undefined;
  private closed = false;

  constructor(
    private readonly host: ResponseHost,
    readonly tenantId: string,
    private readonly pending: Map<string, PendingCommand>,
  ) {
    this.topic = honoTopic('command_response', tenantId);
    this.groupId = `${host.options.groupId}.command_response.${tenantId}.${randomUUID().slice(0, 8)}`;
  }

  /** Positions and starts the consumer. Resolves once the end offsets are known (before the group join). */
  async start(): Promise<void> {
    const { kafka, options } = this.host;
    const endOffsets = await this.endOffsets(this.host.admin());
    const consumer = kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      allowAutoTopicCreation: true,
      // A short long-poll: responses are latency-sensitive and few.
      maxWaitTimeInMs: 500,
      // kafkajs restarts a crashed consumer by itself (from its committed offsets: no response is lost), but
      // one that crashes while we disconnect it would come back after close() and reconnect forever.
      retry: { restartOnFailure: async () => !this.closed },
    });
    this.consumer = consumer;
    this.host.watch(consumer);
    consumer.on(consumer.events.CRASH, (event) => {
      options.logger.warn('command response consumer crashed', {
        topic: this.topic,
        restart: event.payload.restart,
        error: event.payload.error,
      });
      if (!this.closed) this.host.crashed(event.payload.error);
      if (!event.payload.restart && !this.closed) this.host.responseConsumerLost(this, event.payload.error);
    });
    try {
      await consumer.connect();
      this.throwIfClosed();
      // Partitions created after this point start at offset 0, which is their end anyway.
      await subscribeCreatingTopic(consumer, this.topic, true);
      this.throwIfClosed();
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({ autoCommit: true, autoCommitInterval: 5_000, eachMessage: (payload) => this.onMessage(payload) })
          .then(resolve, reject);
        // Seeks are applied when the partitions are assigned; `run` has created the group by now.
        for (const { partition, offset } of endOffsets) consumer.seek({ topic: this.topic, partition, offset });
      });
      this.throwIfClosed();
    } catch (error) {
      // Closed while starting: a consumer still connecting when `disconnect()` ran would keep its sockets.
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  private throwIfClosed(): void {
    if (this.closed)
      throw new NorthboundNotConnectedError(`starting the response consumer of ${this.topic}`, 'closed', { transport: 'kafka' });
  }

  private async endOffsets(admin: Admin): Promise<Array<{ partition: number; offset: string }>> {
    // A topic that does not exist yet has no old responses; the consumer creates it. (Asking a missing
    // topic's offsets would make the admin client retry for seconds.)
    if (!(await admin.listTopics()).includes(this.topic)) return [];
    try {
      const offsets = await admin.fetchTopicOffsets(this.topic);
      return offsets.map(({ partition, high }) => ({ partition, offset: high }));
    } catch (error) {
      if (isUnknownTopic(error)) return [];
      throw error;
    }
  }

  private async onMessage({ message }: EachMessagePayload): Promise<void> {
    let properties;
    try {
      properties = decodeHeaders(message.headers);
    } catch (error) {
      // A response with a bad header (say, a status that is not a number) still ends its command.
      const raw = message.headers?.[HEADER.correlationId];
      const pending = raw === undefined ? undefined : this.pending.get((Array.isArray(raw) ? raw[0] : raw)?.toString() ?? '');
      if (pending !== undefined) pending.reject(error as MalformedMessageError);
      else this.host.malformed(error as MalformedMessageError);
      return;
    }
    const correlationId = properties[HEADER.correlationId];
    if (typeof correlationId !== 'string') return;
    const pending = this.pending.get(correlationId);
    if (pending === undefined) {
      this.host.options.logger.debug('ignoring a command response nobody waits for', { topic: this.topic, correlationId });
      return;
    }
    this.pending.delete(correlationId);
    try {
      const contentType = properties[HEADER.contentType];
      const response = commandResponse({
        status: properties[HEADER.status],
        contentType: typeof contentType === 'string' ? contentType : undefined,
        payload: message.value ?? new Uint8Array(0),
        correlationId,
        properties,
      });
      settleCommand(pending, response);
    } catch (error) {
      pending.reject(error as Error);
    }
  }

  async close(deleteGroup: boolean): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.consumer?.disconnect().catch(() => undefined);
    if (deleteGroup) {
      // Our group is unique to this client; leaving it behind would only clutter the cluster.
      try {
        await this.host.admin().deleteGroups([this.groupId]);
      } catch (error) {
        this.host.options.logger.debug('could not delete the command response group', { groupId: this.groupId, error });
      }
    }
  }
}
