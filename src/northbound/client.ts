import { ValidationError } from '../core/errors.js';
import { showValue } from '../core/options.js';
import { AmqpNorthbound } from './amqp.js';
import type { AmqpNorthboundOptions } from './amqp-options.js';
import { KafkaNorthbound, type KafkaNorthboundClientOptions } from './kafka.js';
import type { Northbound } from './types.js';

export type NorthboundTransport = 'amqp' | 'kafka';

/** `createNorthbound()`'s options: the transport's own options, tagged with the transport. */
export type NorthboundOptions = ({ transport: 'amqp' } & AmqpNorthboundOptions) | ({ transport: 'kafka' } & KafkaNorthboundClientOptions);

/**
 * Creates the northbound client for Hono's messaging network: `'kafka'` (Cloud2Edge's default) or `'amqp'` (its
 * AMQP profile). Validates every option first (a `ValidationError` names the field); nothing connects until the
 * first stream, command or `connect()`.
 *
 * ```ts
 * const app = createNorthbound({ transport: 'kafka', brokers: ['192.168.1.10:9094'], groupId: 'lamp-dashboard',
 *   credentials: { mechanism: 'plain', username: 'ditto-c2e', password } });
 * for await (const msg of app.telemetry('org.acme')) record(msg.deviceId, msg.json());
 * ```
 */
export function createNorthbound(options: NorthboundOptions): Northbound {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('options', 'must be an object', 'e.g. { transport: "kafka", brokers: ["192.168.1.10:9094"] }');
  }
  const { transport, ...rest } = options;
  if (transport === 'amqp') return new AmqpNorthbound(rest as AmqpNorthboundOptions);
  if (transport === 'kafka') return new KafkaNorthbound(rest as KafkaNorthboundClientOptions);
  throw new ValidationError(
    'transport',
    `must be "amqp" or "kafka", got ${showValue(transport)}`,
    'Cloud2Edge uses Kafka unless installed with its AMQP messaging profile.',
  );
}
