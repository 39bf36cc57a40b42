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

export interface NorthboundTestEnv {
  name: 'amqp' | 'kafka';
  /** A client connected to the test broker (with whatever address mapping the broker needs). */
  createNorthbound(): Northbound;
  /** Plays Hono's protocol adapter: puts a downstream message where Hono would. */
  publishDownstream(kind: 'telemetry' | 'event', tenantId: string, message: DownstreamTestMessage): Promise<void>;
  /** Plays a device (and the adapter in front of it) that receives commands for the tenant and answers them. */
  startCommandPeer(tenantId: string, answer: (command: ReceivedTestCommand) => TestCommandAnswer): Promise<CommandPeer>;
  /** Stops and starts the broker, keeping its data. */
  restartBroker(): Promise<void>;
  teardown(): Promise<void>;
}
