/**
 * What the shared northbound test suite needs from a transport's test setup. The AMQP setup (RabbitMQ)
 * and the Kafka setup (a KRaft node) each provide one; `test/integration/northbound-suite.ts` runs the
 * same scenarios against both.
 */
import type { Northbound } from '../../src/northbound/types.js';

export interface DownstreamTestMessage {
  deviceId: string;
  payload: Buffer;
  contentType?: string;
  /** Extra properties / headers, e.g. `{ ttd: 30 }` or `{ orig_adapter: 'hono-mqtt' }`. */
  properties?: Record<string, string | number | boolean>;
  qos?: 0 | 1;
  /** Leave out `device_id` (malformed-input tests). */
  omitDeviceId?: boolean;
  /** AMQP: the message's `message-id`. Kafka has no such field: a record's identity is its topic, partition and offset. */
  messageId?: string;
}

export interface ReceivedTestCommand {
  deviceId: string;
  name: string;
  payload: Buffer;
  contentType: string | undefined;
  correlationId: string | undefined;
  oneWay: boolean;
}

/** How the simulated device answers a command: a response, or nothing at all (to test timeouts). */
export type TestCommandAnswer = { status: number; payload?: Buffer; contentType?: string } | 'no-answer';

export interface CommandPeer {
  received: ReceivedTestCommand[];
  stop(): Promise<void>;
}

/**
 * What a transport's test network can express. The shared suite skips (with the reason) the scenarios whose
 * flag is false. Every flag defaults to `true` when left out.
 */
export interface NorthboundCapabilities {
  /**
   * Two consumers of the same stream share its messages one by one (AMQP queues), so a consumer that holds
   * back (its prefetch is full) leaves the rest to the other. Kafka assigns whole partitions instead: false.
   */
  competingConsumers: boolean;
  /**
   * With no command peer running, the network tells the sender that the device is not connected (Hono: AMQP
   * outcome `released`, Kafka delivery-failure notification). A plain broker just queues the command: false.
   */
  deviceNotConnected: boolean;
  /** `restartBroker()` works and keeps unacknowledged events. */
  brokerRestart: boolean;
}

export interface NorthboundTestEnv {
  name: 'amqp' | 'kafka';
  /** Optional; every capability defaults to `true`. */
  capabilities?: Partial<NorthboundCapabilities>;
  /** A client connected to the test broker (with whatever address mapping the broker needs). */
  createNorthbound(): Northbound;
  /**
   * Plays Hono's protocol adapter: puts a downstream message where Hono would. The suite often publishes
   * before it starts consuming, so a consumer that starts later must still get the message (AMQP: the queue
   * exists; Kafka: the env's consumers start from the earliest offset of a new group). Sets `creation-time`
   * to now, `content-type` and `qos` when given.
   */
  publishDownstream(kind: 'telemetry' | 'event', tenantId: string, message: DownstreamTestMessage): Promise<void>;
  /** Plays a device (and the adapter in front of it) that receives commands for the tenant and answers them. */
  startCommandPeer(tenantId: string, answer: (command: ReceivedTestCommand) => TestCommandAnswer): Promise<CommandPeer>;
  /** Stops and starts the broker, keeping its data. */
  restartBroker(): Promise<void>;
  teardown(): Promise<void>;
}
